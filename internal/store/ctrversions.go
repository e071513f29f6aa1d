package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/conversation"
)

// CTRVersions is the claim-check store of CTR versions.
type CTRVersions struct {
	pool *pgxpool.Pool
}

// NewCTRVersions returns a CTRVersions over pool.
func NewCTRVersions(pool *pgxpool.Pool) *CTRVersions {
	return &CTRVersions{pool: pool}
}

// Stored says what Put found.
type Stored struct {
	// Ref is the reference to use: the version's own, or, when the same
	// version was stored before with other bytes, the first one's.
	Ref conversation.CTRRef
	// Done is true when nothing is left to deliver: the conversation holds
	// a newer version, or this one and has finished with it, or this one
	// and its run is still working on it. The conversation records a
	// version only inside the run that received it, and every run ends in
	// a final state, so a re-sent copy would only wake that run for
	// nothing; a run an operator ended by hand is revived with `calls
	// retry`, not by the copy.
	Done bool
	// RunOpen is true when the conversation's row shows a run at work on
	// an older version (a state that is not final): the version is for
	// that run, by signal.
	RunOpen bool
	// Erased is true when the contact was erased: the version was not
	// stored, and the refusal is counted on its tombstone.
	Erased bool
}

// Put stores a CTR version once: a repeated Put of the same version keeps
// the first bytes. A version of an erased contact is not stored: Put
// reports it Erased and counts the refusal on the tombstone. It also reports
// whether the conversation already has this version or a newer one, so that
// a redelivered or re-sent message costs no Temporal call, and whether a
// run is at work on the conversation, so that an update costs only one.
func (s *CTRVersions) Put(ctx context.Context, ref conversation.CTRRef, raw []byte, firehoseRequestID, origin string, receivedAt time.Time) (Stored, error) {
	if receivedAt.IsZero() {
		receivedAt = time.Now()
	}
	if origin == "" {
		origin = "firehose"
	}
	var stored Stored
	var convLUT *time.Time
	var convState *string
	var sha *string
	err := s.pool.QueryRow(ctx, `
		WITH erased AS (
			UPDATE erasures SET refused_count = refused_count + 1, last_refused_at = now()
			WHERE tenant_id = $1 AND contact_id = $2
			RETURNING 1
		), ins AS (
			INSERT INTO ctr_versions (tenant_id, contact_id, last_update_timestamp, sha256, ctr, firehose_request_id, received_at, origin)
			SELECT $1, $2, $3::timestamptz, $4, $5::bytea, $6, $7::timestamptz, $8
			WHERE NOT EXISTS (SELECT 1 FROM erasures WHERE tenant_id = $1 AND contact_id = $2)
			ON CONFLICT (tenant_id, contact_id, last_update_timestamp) DO NOTHING
			RETURNING sha256
		)
		SELECT EXISTS (SELECT 1 FROM erased),
			coalesce((SELECT sha256 FROM ins),
				(SELECT sha256 FROM ctr_versions WHERE tenant_id = $1 AND contact_id = $2 AND last_update_timestamp = $3)),
			conv.last_update_timestamp, conv.state
		FROM (SELECT 1) AS one
		LEFT JOIN conversations AS conv ON conv.tenant_id = $1 AND conv.contact_id = $2`,
		ref.TenantID, ref.ContactID, ref.LastUpdateTimestamp, ref.SHA256, raw, firehoseRequestID, receivedAt, origin).
		Scan(&stored.Erased, &sha, &convLUT, &convState)
	if IsErased(err) {
		// The tombstone was written while this statement ran.
		return Stored{Erased: true}, nil
	}
	if err != nil {
		return Stored{}, fmt.Errorf("store CTR version %s/%s@%s: %w", ref.TenantID, ref.ContactID,
			ref.LastUpdateTimestamp.Format(time.RFC3339Nano), err)
	}
	if stored.Erased {
		return Stored{Erased: true}, nil
	}
	if sha != nil {
		stored.Ref.SHA256 = *sha
	}
	stored.Ref.TenantID, stored.Ref.ContactID, stored.Ref.LastUpdateTimestamp = ref.TenantID, ref.ContactID, ref.LastUpdateTimestamp
	if convLUT != nil {
		stored.Done = !convLUT.Before(ref.LastUpdateTimestamp)
		stored.RunOpen = !stored.Done && convState != nil && !conversation.State(*convState).Final()
	}
	return stored, nil
}

// Get returns the bytes of a stored CTR version.
func (s *CTRVersions) Get(ctx context.Context, ref conversation.CTRRef) ([]byte, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT ctr FROM ctr_versions WHERE tenant_id = $1 AND contact_id = $2 AND last_update_timestamp = $3`,
		ref.TenantID, ref.ContactID, ref.LastUpdateTimestamp).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("CTR version %s/%s@%s: %w", ref.TenantID, ref.ContactID, ref.LastUpdateTimestamp.Format(time.RFC3339Nano), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get CTR version %s/%s: %w", ref.TenantID, ref.ContactID, err)
	}
	return raw, nil
}

// Latest returns the reference of the newest stored version of a contact.
func (s *CTRVersions) Latest(ctx context.Context, tenantID, contactID string) (conversation.CTRRef, error) {
	ref := conversation.CTRRef{TenantID: tenantID, ContactID: contactID}
	err := s.pool.QueryRow(ctx, `SELECT last_update_timestamp, sha256 FROM ctr_versions
		WHERE tenant_id = $1 AND contact_id = $2 ORDER BY last_update_timestamp DESC LIMIT 1`, tenantID, contactID).
		Scan(&ref.LastUpdateTimestamp, &ref.SHA256)
	if errors.Is(err, pgx.ErrNoRows) {
		return conversation.CTRRef{}, fmt.Errorf("CTR versions of %s/%s: %w", tenantID, contactID, ErrNotFound)
	}
	if err != nil {
		return conversation.CTRRef{}, fmt.Errorf("latest CTR version of %s/%s: %w", tenantID, contactID, err)
	}
	ref.LastUpdateTimestamp = ref.LastUpdateTimestamp.UTC()
	return ref, nil
}
