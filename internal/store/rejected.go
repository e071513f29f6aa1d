package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Rejected is a Firehose record that can never become a conversation, kept
// whole so that an operator can see why and what it held.
type Rejected struct {
	ID                int64
	TenantID          string
	FirehoseRequestID string
	RecordIndex       int
	Reason            string
	Detail            string
	RawData           []byte
	ReceivedAt        time.Time
}

// Quarantine stores rejected records. Firehose retries a whole batch under the
// same request ID, so records already stored for that request and index are
// left as they are: quarantining is idempotent.
type Quarantine struct {
	pool *pgxpool.Pool
}

// NewQuarantine returns a Quarantine over pool.
func NewQuarantine(pool *pgxpool.Pool) *Quarantine {
	return &Quarantine{pool: pool}
}

// Put stores records in one transaction: all of them, or none.
func (q *Quarantine) Put(ctx context.Context, records []Rejected) error {
	if len(records) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, r := range records {
		batch.Queue(`INSERT INTO rejected_records (tenant_id, firehose_request_id, record_index, reason, detail, raw_data)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, firehose_request_id, record_index) DO NOTHING`,
			r.TenantID, storable(r.FirehoseRequestID), r.RecordIndex, storable(r.Reason), storable(r.Detail), r.RawData)
	}
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("quarantine %d records: %w", len(records), err)
	}
	return nil
}

// RejectedFilter selects quarantined records. Zero fields select everything.
type RejectedFilter struct {
	TenantID string
	Reason   string
	Since    time.Time
	Limit    int
}

// List returns quarantined records, newest first.
func (q *Quarantine) List(ctx context.Context, f RejectedFilter) ([]Rejected, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := q.pool.Query(ctx, `
		SELECT id, tenant_id, firehose_request_id, record_index, reason, detail, raw_data, received_at
		FROM rejected_records
		WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR reason = $2) AND received_at >= $3
		ORDER BY received_at DESC, id DESC
		LIMIT $4`, f.TenantID, f.Reason, f.Since, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list rejected records: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Rejected, error) {
		var r Rejected
		err := row.Scan(&r.ID, &r.TenantID, &r.FirehoseRequestID, &r.RecordIndex, &r.Reason, &r.Detail, &r.RawData, &r.ReceivedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list rejected records: %w", err)
	}
	return recs, nil
}

// storable returns s as Postgres text can hold it: NULs spelled out and
// invalid UTF-8 replaced. The quarantine keeps what everything else
// refuses, so its own text must never be refused.
func storable(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\u0000`), "\uFFFD")
}
