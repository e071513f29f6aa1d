package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Rejected is a Firehose record that can never become a conversation, kept
// so that an operator can see why and what it held: the first
// RejectedPrefixBytes of its bytes, with the length and SHA-256 of the whole.
type Rejected struct {
	ID                int64
	TenantID          string
	FirehoseRequestID string
	RecordIndex       int
	Reason            string
	Detail            string
	// RawData is the record's bytes as received, or their first
	// RejectedPrefixBytes; empty for a record stored past its tenant's
	// quota.
	RawData []byte
	// RawLength and RawSHA256 describe the whole record. Put works them out
	// from RawData when RawSHA256 is empty.
	RawLength  int64
	RawSHA256  string
	ReceivedAt time.Time
}

// RejectedPrefixBytes bounds the bytes kept of one quarantined record.
const RejectedPrefixBytes = 64 << 10

// NewRejected describes raw for the quarantine: its length, its SHA-256 and
// a copy of its first RejectedPrefixBytes, so that no more than that is
// held on to however large the record.
func NewRejected(raw []byte) Rejected {
	sum := sha256.Sum256(raw)
	return Rejected{RawData: bytes.Clone(raw[:min(len(raw), RejectedPrefixBytes)]), RawLength: int64(len(raw)), RawSHA256: hex.EncodeToString(sum[:])}
}

// DefaultRejectedQuota is how many quarantined records a tenant keeps with
// their bytes unless configured otherwise.
const DefaultRejectedQuota = 10_000

// Quarantine stores rejected records. Firehose retries a whole batch under the
// same request ID, so records already stored for that request and index are
// left as they are: quarantining is idempotent.
type Quarantine struct {
	pool *pgxpool.Pool
	// quota is how many records a tenant keeps with their bytes; past it,
	// records are still stored, with reason, length and SHA-256, but
	// without bytes.
	quota int
}

// NewQuarantine returns a Quarantine over pool with DefaultRejectedQuota.
func NewQuarantine(pool *pgxpool.Pool) *Quarantine {
	return &Quarantine{pool: pool, quota: DefaultRejectedQuota}
}

// WithQuota returns q with a per-tenant quota of n records with bytes.
func (q *Quarantine) WithQuota(n int) *Quarantine {
	return &Quarantine{pool: q.pool, quota: n}
}

// PutResult says what Put could not keep whole.
type PutResult struct {
	// OverQuota counts, by tenant, the records stored without their bytes
	// because the tenant's quota was reached.
	OverQuota map[string]int
}

// Put stores records in one transaction: all of them, or none. Bytes past
// RejectedPrefixBytes are never stored, and a tenant at its quota has its
// new records stored without bytes (see PutResult).
func (q *Quarantine) Put(ctx context.Context, records []Rejected) (PutResult, error) {
	res := PutResult{}
	if len(records) == 0 {
		return res, nil
	}
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		room, err := q.room(ctx, tx, records)
		if err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for _, r := range records {
			if r.RawSHA256 == "" {
				full := NewRejected(r.RawData)
				r.RawData, r.RawLength, r.RawSHA256 = full.RawData, full.RawLength, full.RawSHA256
			}
			r.RawData = r.RawData[:min(len(r.RawData), RejectedPrefixBytes)]
			if room[r.TenantID] <= 0 {
				r.RawData = []byte{}
				if res.OverQuota == nil {
					res.OverQuota = map[string]int{}
				}
				res.OverQuota[r.TenantID]++
			}
			room[r.TenantID]--
			batch.Queue(`INSERT INTO rejected_records (tenant_id, firehose_request_id, record_index, reason, detail,
					raw_data, raw_length, raw_sha256)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (tenant_id, firehose_request_id, record_index) DO NOTHING`,
				r.TenantID, storable(r.FirehoseRequestID), r.RecordIndex, storable(r.Reason), storable(clip(r.Detail, maxDetailBytes)),
				r.RawData, r.RawLength, r.RawSHA256)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return PutResult{}, fmt.Errorf("quarantine %d records: %w", len(records), err)
	}
	return res, nil
}

// room is how many more records with bytes each tenant of records may keep.
// Counting stops at the quota, so its cost is bounded however many records
// a tenant has.
func (q *Quarantine) room(ctx context.Context, tx pgx.Tx, records []Rejected) (map[string]int, error) {
	room := map[string]int{}
	for _, r := range records {
		if _, ok := room[r.TenantID]; ok {
			continue
		}
		var n int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM rejected_records
			WHERE tenant_id = $1 AND raw_data <> ''::bytea LIMIT $2) kept`, r.TenantID, q.quota).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("count %s's quarantined records: %w", r.TenantID, err)
		}
		room[r.TenantID] = q.quota - n
	}
	return room, nil
}

// Purge deletes up to limit records received before before, oldest first,
// and returns how many it deleted: the retention clean-up calls it until
// none are left.
func (q *Quarantine) Purge(ctx context.Context, before time.Time, limit int) (int64, error) {
	tag, err := q.pool.Exec(ctx, `DELETE FROM rejected_records WHERE id IN (
		SELECT id FROM rejected_records WHERE received_at < $1 ORDER BY received_at LIMIT $2)`, before, limit)
	if err != nil {
		return 0, fmt.Errorf("purge quarantined records before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return tag.RowsAffected(), nil
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
		SELECT id, tenant_id, firehose_request_id, record_index, reason, detail, raw_data, raw_length, raw_sha256,
			received_at
		FROM rejected_records
		WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR reason = $2) AND received_at >= $3
		ORDER BY received_at DESC, id DESC
		LIMIT $4`, f.TenantID, f.Reason, f.Since, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list rejected records: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Rejected, error) {
		var r Rejected
		err := row.Scan(&r.ID, &r.TenantID, &r.FirehoseRequestID, &r.RecordIndex, &r.Reason, &r.Detail, &r.RawData, &r.RawLength,
			&r.RawSHA256, &r.ReceivedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list rejected records: %w", err)
	}
	return recs, nil
}

// maxDetailBytes bounds a quarantined record's detail: the reason's
// explanation, never its data.
const maxDetailBytes = 1024

// clip cuts s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// storable returns s as Postgres text can hold it: NULs spelled out and
// invalid UTF-8 replaced. The quarantine keeps what everything else
// refuses, so its own text must never be refused.
func storable(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\u0000`), "\uFFFD")
}
