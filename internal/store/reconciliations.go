package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The outcomes of a contact a reconciliation found missing.
const (
	Recovered     = "recovered"
	WouldRecover  = "would_recover"
	Unrecoverable = "unrecoverable"
	// Recovering marks a contact whose recovery began: an attempt that
	// dies after ingesting it leaves the mark, so the page read again
	// recovers it again (idempotently) instead of counting it present.
	Recovering = "recovering"
)

// KnownContacts sorts a page of Connect's contacts by what connect-ingest
// knows of them.
type KnownContacts struct {
	// Present have a conversation or a stored CTR version.
	Present map[string]bool
	// Erased have a tombstone: they are refused, never recovered.
	Erased map[string]bool
	// Recovered this run recovered already (or would, in a dry run).
	Recovered map[string]bool
	// Recovering this run began to recover.
	Recovering map[string]bool
}

// Reconciliation is one run over a window of a tenant's contacts.
type Reconciliation struct {
	TenantID   string
	RunID      string
	Kind       string
	From, To   time.Time
	DryRun     bool
	StartedAt  time.Time
	FinishedAt *time.Time
	ReconcileCounts
	// QuietHours counts the hours of the window in which Connect had
	// calls and Firehose delivered none (see QuietHours); QuietFrom is the
	// first.
	QuietHours int
	QuietFrom  *time.Time
	// Failure says why the run stopped, when it could not go on.
	Failure string
}

// ReconcileCounts are what a run found: the contacts Connect reported
// (Seen), those connect-ingest already had (Present), recovered (or, in a
// dry run, would recover) and could not; Analysed counts the window's
// conversations enqueued for analysis when the run finished.
type ReconcileCounts struct {
	Seen          int
	Present       int
	Recovered     int
	Unrecoverable int
	Analysed      int
	// Erased counts the contacts Connect reports that were erased.
	Erased int
}

// Add returns the sum of two counts.
func (c ReconcileCounts) Add(d ReconcileCounts) ReconcileCounts {
	return ReconcileCounts{Seen: c.Seen + d.Seen, Present: c.Present + d.Present, Recovered: c.Recovered + d.Recovered,
		Unrecoverable: c.Unrecoverable + d.Unrecoverable, Analysed: c.Analysed + d.Analysed, Erased: c.Erased + d.Erased}
}

// ReconciledContact is a missing contact and what became of it.
type ReconciledContact struct {
	ContactID      string
	Outcome        string
	Reason         string
	At             time.Time
	DisconnectedAt *time.Time
}

// Reconciliations keeps the reconciliation runs and compares Connect's
// contacts with what is stored.
type Reconciliations struct {
	pool *pgxpool.Pool
}

// NewReconciliations returns the store of reconciliation runs.
func NewReconciliations(pool *pgxpool.Pool) *Reconciliations {
	return &Reconciliations{pool: pool}
}

// Begin records a run; beginning it again changes nothing.
func (s *Reconciliations) Begin(ctx context.Context, r Reconciliation) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO reconciliations (tenant_id, run_id, kind, window_from, window_to, dry_run)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, run_id) DO NOTHING`,
		r.TenantID, r.RunID, r.Kind, r.From, r.To, r.DryRun)
	if err != nil {
		return fmt.Errorf("begin reconciliation %s: %w", r.RunID, err)
	}
	return nil
}

// Update stores a run's counts so far, and marks it finished when done.
func (s *Reconciliations) Update(ctx context.Context, tenantID, runID string, c ReconcileCounts, done bool) error {
	_, err := s.pool.Exec(ctx, `UPDATE reconciliations SET seen = $3, present = $4, recovered = $5, unrecoverable = $6,
		analysed = $7, finished_at = CASE WHEN $8 THEN coalesce(finished_at, now()) END, erased = $9
		WHERE tenant_id = $1 AND run_id = $2`,
		tenantID, runID, c.Seen, c.Present, c.Recovered, c.Unrecoverable, c.Analysed, done, c.Erased)
	if err != nil {
		return fmt.Errorf("update reconciliation %s: %w", runID, err)
	}
	return nil
}

// Fail records why a run stopped.
func (s *Reconciliations) Fail(ctx context.Context, tenantID, runID, failure string) error {
	_, err := s.pool.Exec(ctx, `UPDATE reconciliations SET failure = $3, finished_at = coalesce(finished_at, now())
		WHERE tenant_id = $1 AND run_id = $2`, tenantID, runID, failure)
	if err != nil {
		return fmt.Errorf("record failure of reconciliation %s: %w", runID, err)
	}
	return nil
}

// List returns a tenant's runs, newest first, at most limit.
func (s *Reconciliations) List(ctx context.Context, tenantID string, limit int) ([]Reconciliation, error) {
	rows, err := s.pool.Query(ctx, selectReconciliations+` WHERE tenant_id = $1 ORDER BY started_at DESC, run_id LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, fmt.Errorf("list reconciliations of %s: %w", tenantID, err)
	}
	return pgx.CollectRows(rows, scanReconciliation)
}

const selectReconciliations = `SELECT tenant_id, run_id, kind, window_from, window_to, dry_run, started_at, finished_at,
		seen, present, recovered, unrecoverable, analysed, quiet_hours, quiet_from, failure, erased
	FROM reconciliations`

func scanReconciliation(row pgx.CollectableRow) (Reconciliation, error) {
	var r Reconciliation
	err := row.Scan(&r.TenantID, &r.RunID, &r.Kind, &r.From, &r.To, &r.DryRun, &r.StartedAt, &r.FinishedAt,
		&r.Seen, &r.Present, &r.Recovered, &r.Unrecoverable, &r.Analysed, &r.QuietHours, &r.QuietFrom, &r.Failure, &r.Erased)
	return r, err
}

// LastFinished returns the tenant's latest finished run that was not a dry
// run, or ErrNotFound.
func (s *Reconciliations) LastFinished(ctx context.Context, tenantID string) (Reconciliation, error) {
	rows, err := s.pool.Query(ctx, selectReconciliations+` WHERE tenant_id = $1 AND finished_at IS NOT NULL AND NOT dry_run
		ORDER BY finished_at DESC LIMIT 1`, tenantID)
	if err != nil {
		return Reconciliation{}, fmt.Errorf("last reconciliation of %s: %w", tenantID, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanReconciliation)
	if errors.Is(err, pgx.ErrNoRows) {
		return Reconciliation{}, ErrNotFound
	}
	if err != nil {
		return Reconciliation{}, fmt.Errorf("last reconciliation of %s: %w", tenantID, err)
	}
	return r, nil
}

// Contacts returns the missing contacts a run found, at most limit.
func (s *Reconciliations) Contacts(ctx context.Context, tenantID, runID string, limit int) ([]ReconciledContact, error) {
	rows, err := s.pool.Query(ctx, `SELECT contact_id, outcome, reason, at, disconnected_at FROM reconciled_contacts
		WHERE tenant_id = $1 AND run_id = $2 ORDER BY at, contact_id LIMIT $3`, tenantID, runID, limit)
	if err != nil {
		return nil, fmt.Errorf("contacts of reconciliation %s: %w", runID, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ReconciledContact])
}

// Mark records what became of a missing contact in a run; marking it
// again keeps the latest outcome.
func (s *Reconciliations) Mark(ctx context.Context, tenantID, runID string, c ReconciledContact) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO reconciled_contacts (tenant_id, run_id, contact_id, outcome, reason, disconnected_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, run_id, contact_id) DO UPDATE SET outcome = excluded.outcome, reason = excluded.reason, at = now()`,
		tenantID, runID, c.ContactID, c.Outcome, c.Reason, c.DisconnectedAt)
	if err != nil {
		return fmt.Errorf("mark %s in reconciliation %s: %w", c.ContactID, runID, err)
	}
	return nil
}

// Known sorts contactIDs: those connect-ingest has, and, apart, those this
// run recovered or began to recover (an attempt of the same page again).
func (s *Reconciliations) Known(ctx context.Context, tenantID, runID string, contactIDs []string) (KnownContacts, error) {
	rows, err := s.pool.Query(ctx, `
		WITH page AS (
			SELECT p.id, (SELECT r.outcome FROM reconciled_contacts r WHERE r.tenant_id = $1 AND r.run_id = $2
				AND r.contact_id = p.id AND r.outcome IN ('recovered', 'would_recover', 'recovering')) AS mine
			FROM unnest($3::text[]) AS p(id))
		SELECT id, CASE WHEN EXISTS (SELECT 1 FROM erasures e WHERE e.tenant_id = $1 AND e.contact_id = page.id) THEN 'erased'
			WHEN mine = 'recovering' THEN 'recovering' WHEN mine IS NOT NULL THEN 'recovered' ELSE 'present' END
		FROM page
		WHERE mine IS NOT NULL
			OR EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = $1 AND c.contact_id = page.id)
			OR EXISTS (SELECT 1 FROM ctr_versions v WHERE v.tenant_id = $1 AND v.contact_id = page.id)
			OR EXISTS (SELECT 1 FROM erasures e WHERE e.tenant_id = $1 AND e.contact_id = page.id)`,
		tenantID, runID, contactIDs)
	if err != nil {
		return KnownContacts{}, fmt.Errorf("compare contacts of %s: %w", tenantID, err)
	}
	k := KnownContacts{Present: map[string]bool{}, Erased: map[string]bool{}, Recovered: map[string]bool{}, Recovering: map[string]bool{}}
	var id, kind string
	_, err = pgx.ForEachRow(rows, []any{&id, &kind}, func() error {
		switch kind {
		case "recovered":
			k.Recovered[id] = true
		case "recovering":
			k.Recovering[id] = true
		case "erased":
			k.Erased[id] = true
		default:
			k.Present[id] = true
		}
		return nil
	})
	if err != nil {
		return KnownContacts{}, fmt.Errorf("compare contacts of %s: %w", tenantID, err)
	}
	return k, nil
}

// Analysed counts the tenant's conversations whose call ended within the
// window and that were enqueued for analysis.
func (s *Reconciliations) Analysed(ctx context.Context, tenantID string, from, to time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE tenant_id = $1
		AND disconnect_timestamp >= $2 AND disconnect_timestamp <= $3 AND analysis_enqueued_at IS NOT NULL`, tenantID, from, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count analysed conversations of %s: %w", tenantID, err)
	}
	return n, nil
}

// QuietHours finds the hours of a run's window in which the tenant's
// stream was quiet: Connect had at least minimum calls that ended in the
// hour, the run found them all missing, and Firehose delivered none of the
// hour's calls. It stores and returns their number and the first.
func (s *Reconciliations) QuietHours(ctx context.Context, tenantID, runID string, from, to time.Time, minimum int) (int, *time.Time, error) {
	var n int
	var first *time.Time
	err := s.pool.QueryRow(ctx, `
		WITH missing AS (
			SELECT date_trunc('hour', disconnected_at) AS h, count(*) AS n FROM reconciled_contacts
			WHERE tenant_id = $1 AND run_id = $2 AND disconnected_at IS NOT NULL GROUP BY 1
		), delivered AS (
			SELECT date_trunc('hour', c.disconnect_timestamp) AS h, count(*) AS n FROM conversations c
			WHERE c.tenant_id = $1 AND c.disconnect_timestamp >= $3 AND c.disconnect_timestamp <= $4
				AND EXISTS (SELECT 1 FROM ctr_versions v WHERE v.tenant_id = c.tenant_id AND v.contact_id = c.contact_id
					AND v.origin = 'firehose')
			GROUP BY 1
		), quiet AS (
			SELECT m.h FROM missing m LEFT JOIN delivered d ON d.h = m.h WHERE m.n >= $5 AND coalesce(d.n, 0) = 0
		), stored AS (
			UPDATE reconciliations SET quiet_hours = (SELECT count(*) FROM quiet), quiet_from = (SELECT min(h) FROM quiet)
			WHERE tenant_id = $1 AND run_id = $2
		)
		SELECT count(*), min(h) FROM quiet`, tenantID, runID, from, to, minimum).Scan(&n, &first)
	if err != nil {
		return 0, nil, fmt.Errorf("quiet hours of %s in %s: %w", tenantID, runID, err)
	}
	return n, first, nil
}
