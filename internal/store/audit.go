package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AuditEntry is one operator action: who, what, on which calls, and how it
// went.
type AuditEntry struct {
	ID       int64
	At       time.Time
	Operator string
	// Action is retry, cancel, bulk-retry or bulk-cancel.
	Action string
	// Target is tenant/contact for an action on one call.
	Target string
	// Filter is a bulk action's filter, as the operator gave it.
	Filter map[string]any
	Reason string
	// Outcome is ok, partial or error; Detail says more (counts, the
	// error).
	Outcome string
	Detail  string
}

// Audit stores the audit log.
type Audit struct {
	pool *pgxpool.Pool
}

// NewAudit returns an Audit over pool.
func NewAudit(pool *pgxpool.Pool) *Audit {
	return &Audit{pool: pool}
}

// Put appends an entry.
func (a *Audit) Put(ctx context.Context, e AuditEntry) error {
	filter, err := json.Marshal(nonNilAny(e.Filter))
	if err != nil {
		return fmt.Errorf("encode an audit filter: %w", err)
	}
	_, err = a.pool.Exec(ctx, `INSERT INTO audit_log (operator, action, target, filter, reason, outcome, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		storable(e.Operator), storable(e.Action), storable(e.Target), filter, storable(clip(e.Reason, maxDetailBytes)),
		storable(e.Outcome), storable(clip(e.Detail, maxDetailBytes)))
	if err != nil {
		return fmt.Errorf("write an audit entry: %w", err)
	}
	return nil
}

// AuditFilter selects entries. Zero fields select everything.
type AuditFilter struct {
	Operator string
	Since    time.Time
	Limit    int
}

// List returns entries, newest first.
func (a *Audit) List(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := a.pool.Query(ctx, `SELECT id, at, operator, action, target, filter, reason, outcome, detail
		FROM audit_log WHERE ($1 = '' OR operator = $1) AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3`,
		f.Operator, f.Since, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Operator, &e.Action, &e.Target, &e.Filter, &e.Reason, &e.Outcome, &e.Detail)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return entries, nil
}

func nonNilAny(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
