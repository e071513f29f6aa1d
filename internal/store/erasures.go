package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Erasure is the tombstone of an erased contact: who asked, why and when,
// and how many of its CTRs arrived since and were refused. It holds no
// customer data.
type Erasure struct {
	TenantID    string
	ContactID   string
	Reason      string
	RequestedBy string
	RequestedAt time.Time
	// ErasedAt is set once everything of the contact is gone; nil while
	// the erasure is under way.
	ErasedAt      *time.Time
	RefusedCount  int64
	LastRefusedAt *time.Time
}

// Erasures stores the tombstones of erased contacts and removes what
// Postgres holds of them.
type Erasures struct {
	pool *pgxpool.Pool
}

// NewErasures returns an Erasures over pool.
func NewErasures(pool *pgxpool.Pool) *Erasures {
	return &Erasures{pool: pool}
}

// Begin writes the contact's tombstone, after which its CTRs are refused.
// An erasure already begun keeps its first reason and requester; Begin
// returns the tombstone as stored.
func (s *Erasures) Begin(ctx context.Context, e Erasure) (Erasure, error) {
	_, err := s.pool.Exec(ctx, `INSERT INTO erasures (tenant_id, contact_id, reason, requested_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, contact_id) DO NOTHING`,
		e.TenantID, e.ContactID, storable(clip(e.Reason, maxDetailBytes)), storable(clip(e.RequestedBy, 200)))
	if err != nil {
		return Erasure{}, fmt.Errorf("begin erasure of %s/%s: %w", e.TenantID, e.ContactID, err)
	}
	return s.Get(ctx, e.TenantID, e.ContactID)
}

// Get returns a contact's tombstone, or ErrNotFound when it was never
// erased.
func (s *Erasures) Get(ctx context.Context, tenantID, contactID string) (Erasure, error) {
	rows, err := s.pool.Query(ctx, selectErasures+` WHERE tenant_id = $1 AND contact_id = $2`, tenantID, contactID)
	if err != nil {
		return Erasure{}, fmt.Errorf("get erasure of %s/%s: %w", tenantID, contactID, err)
	}
	e, err := pgx.CollectExactlyOneRow(rows, scanErasure)
	if errors.Is(err, pgx.ErrNoRows) {
		return Erasure{}, fmt.Errorf("erasure of %s/%s: %w", tenantID, contactID, ErrNotFound)
	}
	if err != nil {
		return Erasure{}, fmt.Errorf("get erasure of %s/%s: %w", tenantID, contactID, err)
	}
	return e, nil
}

// Check returns ErrErased when the contact has a tombstone: a step about to
// store or send something of the contact (a recording copy, an analysis
// job) stops there. Postgres itself refuses rows of such a contact; Check
// spares the work before a write that Postgres cannot see, such as an
// object or a message.
func (s *Erasures) Check(ctx context.Context, tenantID, contactID string) error {
	var erased bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM erasures WHERE tenant_id = $1 AND contact_id = $2)`,
		tenantID, contactID).Scan(&erased)
	if err != nil {
		return fmt.Errorf("check erasure of %s/%s: %w", tenantID, contactID, err)
	}
	if erased {
		return fmt.Errorf("%s/%s: %w", tenantID, contactID, ErrErased)
	}
	return nil
}

// Exclusively runs fn while no other caller of Exclusively with the same
// name runs, in any process of the deployment: a Postgres advisory lock
// held for fn's duration. The dead-letter sweeps of erasures take turns by
// it, since a message one sweep holds is invisible to another.
func (s *Erasures) Exclusively(ctx context.Context, name string, fn func() error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 1))`, name); err != nil {
			return fmt.Errorf("wait for %s: %w", name, err)
		}
		return fn()
	})
}

// List returns a tenant's tombstones, newest first.
func (s *Erasures) List(ctx context.Context, tenantID string, limit int) ([]Erasure, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, selectErasures+` WHERE tenant_id = $1 ORDER BY requested_at DESC, contact_id LIMIT $2`,
		tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list erasures of %s: %w", tenantID, err)
	}
	es, err := pgx.CollectRows(rows, scanErasure)
	if err != nil {
		return nil, fmt.Errorf("list erasures of %s: %w", tenantID, err)
	}
	return es, nil
}

const selectErasures = `SELECT tenant_id, contact_id, reason, requested_by, requested_at, erased_at, refused_count,
	last_refused_at FROM erasures`

func scanErasure(row pgx.CollectableRow) (Erasure, error) {
	var e Erasure
	err := row.Scan(&e.TenantID, &e.ContactID, &e.Reason, &e.RequestedBy, &e.RequestedAt, &e.ErasedAt, &e.RefusedCount,
		&e.LastRefusedAt)
	return e, err
}

// Purged counts the rows Purge removed.
type Purged struct {
	Conversations int64
	Recordings    int64
	CTRVersions   int64
	// Rejected counts quarantined records that named the contact.
	Rejected int64
}

// Purge removes everything Postgres holds of a contact but its tombstone,
// in one transaction: its conversation row and recordings, every stored
// CTR version, and quarantined records whose bytes name its contact ID, as
// they are or in base64.
// It is idempotent.
func (s *Erasures) Purge(ctx context.Context, tenantID, contactID string) (Purged, error) {
	var p Purged
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		steps := []struct {
			n   *int64
			sql string
		}{
			{&p.Recordings, `DELETE FROM recordings WHERE tenant_id = $1 AND contact_id = $2`},
			{&p.Conversations, `DELETE FROM conversations WHERE tenant_id = $1 AND contact_id = $2`},
			{&p.CTRVersions, `DELETE FROM ctr_versions WHERE tenant_id = $1 AND contact_id = $2`},
		}
		for _, st := range steps {
			tag, err := tx.Exec(ctx, st.sql, tenantID, contactID)
			if err != nil {
				return err
			}
			*st.n = tag.RowsAffected()
		}
		// A contact ID is a UUID: where it appears, the record is that
		// contact's, whether the record was kept as JSON or, refused as
		// bad base64, as the base64 text it arrived in.
		tag, err := tx.Exec(ctx, `DELETE FROM rejected_records WHERE tenant_id = $1
			AND EXISTS (SELECT 1 FROM unnest($2::bytea[]) AS n(b) WHERE position(n.b IN raw_data) > 0)`,
			tenantID, contactNeedles(contactID))
		p.Rejected = tag.RowsAffected()
		return err
	})
	if err != nil {
		return Purged{}, fmt.Errorf("purge %s/%s: %w", tenantID, contactID, err)
	}
	return p, nil
}

// Finish marks the erasure done; a finished one keeps its first time.
func (s *Erasures) Finish(ctx context.Context, tenantID, contactID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE erasures SET erased_at = coalesce(erased_at, now()) WHERE tenant_id = $1 AND contact_id = $2`,
		tenantID, contactID)
	if err != nil {
		return fmt.Errorf("finish erasure of %s/%s: %w", tenantID, contactID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("erasure of %s/%s: %w", tenantID, contactID, ErrNotFound)
	}
	return nil
}

// Ended is a conversation and when its call ended: the position of a
// retention run in a tenant's conversations.
type Ended struct {
	ContactID string
	At        time.Time
}

// EndedBefore returns up to limit of a tenant's conversations whose call
// ended (or, without an end, began or was last updated) before cutoff,
// oldest first, starting after the position after (zero: the start). A
// run pages through them so that a conversation it could not erase is not
// met again in the same run.
func (s *Erasures) EndedBefore(ctx context.Context, tenantID string, cutoff time.Time, after Ended, limit int) ([]Ended, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT contact_id, ended FROM (
			SELECT contact_id, coalesce(disconnect_timestamp, initiation_timestamp, last_update_timestamp) AS ended
			FROM conversations WHERE tenant_id = $1) c
		WHERE ended < $2 AND (ended, contact_id) > ($3, $4)
		ORDER BY ended, contact_id
		LIMIT $5`, tenantID, cutoff, after.At, after.ContactID, limit)
	if err != nil {
		return nil, fmt.Errorf("find %s's conversations ended before %s: %w", tenantID, cutoff.Format(time.RFC3339), err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Ended, error) {
		var e Ended
		err := row.Scan(&e.ContactID, &e.At)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("find %s's conversations ended before %s: %w", tenantID, cutoff.Format(time.RFC3339), err)
	}
	return out, nil
}

// contactNeedles are the byte strings that show a record names contactID:
// the ID itself, and for each of the three alignments base64 can give it,
// the run of base64 characters that encode only its bytes.
func contactNeedles(contactID string) [][]byte {
	needles := [][]byte{[]byte(contactID)}
	for off := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, off), contactID...))
		// Whole groups of three bytes that hold only the ID's bytes.
		first, last := (off+2)/3, (off+len(contactID))/3
		if last > first {
			needles = append(needles, []byte(enc[first*4:last*4]))
		}
	}
	return needles
}
