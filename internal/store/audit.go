package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The outcomes of an audit entry.
const (
	// OutcomePending is an intent: the act was about to run and its
	// outcome is not written yet (it is under way, or its process died).
	OutcomePending = "pending"
	OutcomeOK      = "ok"
	OutcomeError   = "error"
	// OutcomeRefused is an act refused before it ran: a role or tenant the
	// operator lacks, or an erased contact.
	OutcomeRefused = "refused"
)

// AuditEntry is one privileged act: who, what, on which calls, and how it
// went.
type AuditEntry struct {
	ID       int64
	At       time.Time
	Operator string
	// Action names the act: retry, cancel, erase, tenant-add, replay, ...;
	// bulk acts are prefixed bulk-.
	Action string
	// Target is what the act is on: tenant/contact for a call, a tenant
	// ID, an operator's name.
	Target string
	// Filter is a bulk action's filter, or an act's parameters, as the
	// operator gave them.
	Filter map[string]any
	Reason string
	// Outcome is pending (written before the act), then ok, error or
	// refused; Detail says more (counts, the error).
	Outcome string
	Detail  string
	// Calls lists the calls (tenant/contact) a bulk act touched.
	Calls []string
	// CompletedAt is when the outcome was written; nil while pending.
	CompletedAt *time.Time
}

// maxAuditCalls bounds the calls one entry lists; a bulk act is bounded by
// the same figure (operations.MaxLimit).
const maxAuditCalls = 1000

// Audit stores the audit log.
type Audit struct {
	pool *pgxpool.Pool
}

// NewAudit returns an Audit over pool.
func NewAudit(pool *pgxpool.Pool) *Audit {
	return &Audit{pool: pool}
}

// Begin writes e as an intent (outcome pending, unless e names one) and
// returns its ID. Nothing privileged may run before Begin has returned
// without error.
func (a *Audit) Begin(ctx context.Context, e AuditEntry) (int64, error) {
	if e.Outcome == "" {
		e.Outcome = OutcomePending
	}
	filter, err := json.Marshal(nonNilAny(e.Filter))
	if err != nil {
		return 0, fmt.Errorf("encode an audit filter: %w", err)
	}
	calls, err := json.Marshal(nonNilStrings(clipCalls(e.Calls)))
	if err != nil {
		return 0, fmt.Errorf("encode an audit entry's calls: %w", err)
	}
	var id int64
	err = a.pool.QueryRow(ctx, `INSERT INTO audit_log (operator, action, target, filter, reason, outcome, detail, calls,
			completed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $6 = 'pending' THEN NULL ELSE now() END) RETURNING id`,
		storable(clip(e.Operator, 200)), storable(clip(e.Action, 300)), storable(clip(e.Target, 300)), filter, storable(clip(e.Reason, maxDetailBytes)),
		storable(e.Outcome), storable(clip(e.Detail, maxDetailBytes)), calls).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("write an audit entry: %w", err)
	}
	return id, nil
}

// Complete writes the outcome of the entry Begin returned id for: ok, or
// error (refused where the act was refused) with err's text after detail,
// and the calls it touched.
func (a *Audit) Complete(ctx context.Context, id int64, detail string, calls []string, err error) error {
	outcome := OutcomeOK
	switch {
	case errors.Is(err, errRefused):
		outcome = OutcomeRefused
	case err != nil:
		outcome = OutcomeError
	}
	if err != nil {
		if detail != "" {
			detail += ": "
		}
		detail += err.Error()
	}
	callsJSON, jerr := json.Marshal(nonNilStrings(clipCalls(calls)))
	if jerr != nil {
		return fmt.Errorf("encode an audit entry's calls: %w", jerr)
	}
	_, werr := a.pool.Exec(ctx, `UPDATE audit_log SET outcome = $2, detail = $3, calls = $4, completed_at = now()
		WHERE id = $1`, id, outcome, storable(clip(detail, maxDetailBytes)), callsJSON)
	if werr != nil {
		return fmt.Errorf("complete audit entry %d: %w", id, werr)
	}
	return nil
}

// ErrAuditUnavailable is returned by Act when the intent could not be
// written: the act did not run.
var ErrAuditUnavailable = errors.New("the audit log is unavailable")

// errRefused marks an act's error as a refusal (see Refused).
var errRefused = errors.New("refused")

// Refused marks err as an act refused before it ran, so that its audit
// entry's outcome is refused rather than error.
func Refused(err error) error {
	return fmt.Errorf("%w: %w", errRefused, err)
}

// Act runs act under an audit entry: e is written as an intent first, and
// act runs only once that has succeeded; then the entry is completed with
// act's outcome, its detail and the calls it touched, on a context that
// outlives a cancelled request. It returns act's error, joined with a
// failure to write the outcome.
func (a *Audit) Act(ctx context.Context, e AuditEntry, act func(*AuditEntry) error) error {
	id, err := a.Begin(ctx, e)
	if err != nil {
		return fmt.Errorf("%w, so nothing was done: %w", ErrAuditUnavailable, err)
	}
	err = act(&e)
	cerr := a.Complete(context.WithoutCancel(ctx), id, e.Detail, e.Calls, err)
	return errors.Join(err, cerr)
}

// AuditFilter selects entries. Zero fields select everything.
type AuditFilter struct {
	Operator string
	Action   string
	Since    time.Time
	Limit    int
}

// List returns entries, newest first.
func (a *Audit) List(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := a.pool.Query(ctx, `SELECT id, at, operator, action, target, filter, reason, outcome, detail, calls,
			completed_at
		FROM audit_log WHERE ($1 = '' OR operator = $1) AND ($2 = '' OR action = $2) AND at >= $3
		ORDER BY at DESC, id DESC LIMIT $4`,
		f.Operator, f.Action, f.Since, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Operator, &e.Action, &e.Target, &e.Filter, &e.Reason, &e.Outcome, &e.Detail,
			&e.Calls, &e.CompletedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return entries, nil
}

func clipCalls(calls []string) []string {
	if len(calls) > maxAuditCalls {
		return calls[:maxAuditCalls]
	}
	return calls
}

func nonNilAny(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
