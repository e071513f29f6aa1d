package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when a created row already exists.
var ErrExists = errors.New("already exists")

// AccessKey is the stored, public part of a Firehose access key.
type AccessKey struct {
	TenantID  string
	KeyID     string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Tenants reads and writes tenants and their access keys.
type Tenants struct {
	pool *pgxpool.Pool
}

// NewTenants returns a Tenants over pool.
func NewTenants(pool *pgxpool.Pool) *Tenants {
	return &Tenants{pool: pool}
}

// Create stores a new tenant together with its first access key.
func (s *Tenants) Create(ctx context.Context, t tenant.Tenant, key string) (AccessKey, error) {
	t, filter, err := forStorage(t)
	if err != nil {
		return AccessKey{}, err
	}
	var ak AccessKey
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`INSERT INTO tenants (id, name, instance_arn, recording_buckets, aws_endpoint_url, aws_role_arn, aws_external_id,
				agent_filter, sync_interval_seconds, sync_enabled, connect_endpoint_url, retention_days)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			t.ID, t.Name, t.InstanceARN, t.RecordingBuckets, t.AWSEndpointURL, t.AWSRoleARN, t.AWSExternalID,
			filter, int(t.SyncInterval/time.Second), !t.SyncDisabled, t.ConnectEndpointURL, retentionDays(t))
		if isUniqueViolation(err) {
			return fmt.Errorf("tenant %s: %w", t.ID, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("insert tenant %s: %w", t.ID, err)
		}
		ak, err = insertKey(ctx, tx, t.ID, key)
		return err
	})
	return ak, err
}

// retentionDays is the tenant's retention as stored: NULL keeps for ever.
func retentionDays(t tenant.Tenant) *int {
	if t.RetentionDays <= 0 {
		return nil
	}
	return &t.RetentionDays
}

// forStorage checks the tenant's settings, fills its defaults and encodes
// its agent filter.
func forStorage(t tenant.Tenant) (tenant.Tenant, []byte, error) {
	if err := t.Validate(); err != nil {
		return t, nil, err
	}
	t = t.WithDefaults()
	filter, err := json.Marshal(t.AgentFilter)
	if err != nil {
		return t, nil, fmt.Errorf("encode agent filter of %s: %w", t.ID, err)
	}
	return t, filter, nil
}

// Update saves every setting of an existing tenant; its ID, keys and
// creation time stay.
func (s *Tenants) Update(ctx context.Context, t tenant.Tenant) error {
	t, filter, err := forStorage(t)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx,
		`UPDATE tenants SET name = $2, instance_arn = $3, recording_buckets = $4, aws_endpoint_url = $5, aws_role_arn = $6,
			aws_external_id = $7, agent_filter = $8, sync_interval_seconds = $9, sync_enabled = $10, connect_endpoint_url = $11,
			retention_days = $12, updated_at = now()
		WHERE id = $1`,
		t.ID, t.Name, t.InstanceARN, t.RecordingBuckets, t.AWSEndpointURL, t.AWSRoleARN, t.AWSExternalID,
		filter, int(t.SyncInterval/time.Second), !t.SyncDisabled, t.ConnectEndpointURL, retentionDays(t))
	if err != nil {
		return fmt.Errorf("update tenant %s: %w", t.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("tenant %s: %w", t.ID, ErrNotFound)
	}
	return nil
}

// Delete removes a tenant with everything that belongs to it: access keys,
// agents, conversations and quarantined records.
func (s *Tenants) Delete(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete tenant %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("tenant %s: %w", id, ErrNotFound)
	}
	return nil
}

// Footprint counts what a tenant owns, for an operator about to remove it.
type Footprint struct {
	Conversations int
	// Unfinished counts conversations not in a final state: their
	// workflows are still running.
	Unfinished int
	// Recordings counts the recording copies held in MinIO.
	Recordings     int
	ActiveAgents   int
	InactiveAgents int
	Rejected       int
	// Erased counts the tenant's tombstones.
	Erased int
}

// Footprint counts the tenant's conversations, agents and quarantined
// records.
func (s *Tenants) Footprint(ctx context.Context, id string) (Footprint, error) {
	var f Footprint
	err := s.pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM conversations WHERE tenant_id = $1),
			(SELECT count(*) FROM conversations WHERE tenant_id = $1 AND state = ANY($2)),
			(SELECT count(*) FROM recordings WHERE tenant_id = $1 AND copied_at IS NOT NULL AND deleted_at IS NULL),
			(SELECT count(*) FROM agents WHERE tenant_id = $1 AND active),
			(SELECT count(*) FROM agents WHERE tenant_id = $1 AND NOT active),
			(SELECT count(*) FROM rejected_records WHERE tenant_id = $1),
			(SELECT count(*) FROM erasures WHERE tenant_id = $1)`, id, unfinishedStates()).
		Scan(&f.Conversations, &f.Unfinished, &f.Recordings, &f.ActiveAgents, &f.InactiveAgents, &f.Rejected, &f.Erased)
	if err != nil {
		return Footprint{}, fmt.Errorf("count what tenant %s owns: %w", id, err)
	}
	return f, nil
}

// unfinishedStates lists the states that are not final.
func unfinishedStates() []string {
	var out []string
	for _, st := range conversation.States() {
		if !st.Final() {
			out = append(out, string(st))
		}
	}
	return out
}

// Get returns one tenant.
func (s *Tenants) Get(ctx context.Context, id string) (tenant.Tenant, error) {
	rows, err := s.pool.Query(ctx, selectTenants+` WHERE id = $1`, id)
	if err != nil {
		return tenant.Tenant{}, fmt.Errorf("get tenant %s: %w", id, err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenant.Tenant{}, fmt.Errorf("tenant %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return tenant.Tenant{}, fmt.Errorf("get tenant %s: %w", id, err)
	}
	return t, nil
}

// List returns every tenant, ordered by ID.
func (s *Tenants) List(ctx context.Context) ([]tenant.Tenant, error) {
	rows, err := s.pool.Query(ctx, selectTenants+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	ts, err := pgx.CollectRows(rows, scanTenant)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

const selectTenants = `SELECT id, name, instance_arn, recording_buckets, aws_endpoint_url, aws_role_arn, aws_external_id,
	agent_filter, sync_interval_seconds, sync_enabled, connect_endpoint_url, retention_days, created_at, updated_at,
	coalesce((SELECT json_agg(json_build_object('ARN', i.instance_arn, 'RecordingBuckets', i.recording_buckets,
		'ReplicaOf', coalesce(i.replica_of, '')) ORDER BY i.created_at, i.instance_arn)
		FROM tenant_instances i WHERE i.tenant_id = tenants.id), '[]')
	FROM tenants`

func scanTenant(row pgx.CollectableRow) (tenant.Tenant, error) {
	var t tenant.Tenant
	var filter []byte
	var seconds int
	var enabled bool
	var retention *int
	var instances []byte
	err := row.Scan(&t.ID, &t.Name, &t.InstanceARN, &t.RecordingBuckets, &t.AWSEndpointURL, &t.AWSRoleARN, &t.AWSExternalID,
		&filter, &seconds, &enabled, &t.ConnectEndpointURL, &retention, &t.CreatedAt, &t.UpdatedAt, &instances)
	if err != nil {
		return tenant.Tenant{}, err
	}
	if err := json.Unmarshal(instances, &t.Instances); err != nil {
		return tenant.Tenant{}, fmt.Errorf("decode instances of %s: %w", t.ID, err)
	}
	if len(t.Instances) == 0 {
		t.Instances = nil
	}
	if retention != nil {
		t.RetentionDays = *retention
	}
	t.SyncInterval, t.SyncDisabled = time.Duration(seconds)*time.Second, !enabled
	if err := json.Unmarshal(filter, &t.AgentFilter); err != nil {
		return tenant.Tenant{}, fmt.Errorf("decode agent filter of %s: %w", t.ID, err)
	}
	return t, nil
}

// AddKey adds another live access key to a tenant, as the first half of a
// rotation: the old key keeps working until RevokeKey.
func (s *Tenants) AddKey(ctx context.Context, tenantID, key string) (AccessKey, error) {
	if _, err := s.Get(ctx, tenantID); err != nil {
		return AccessKey{}, err
	}
	return insertKey(ctx, s.pool, tenantID, key)
}

// RevokeKey stops a key from authenticating. Revoking an already revoked key
// is not an error.
func (s *Tenants) RevokeKey(ctx context.Context, tenantID, keyID string) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE tenant_access_keys SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = $1 AND key_id = $2`,
		tenantID, keyID)
	if err != nil {
		return fmt.Errorf("revoke key %s of tenant %s: %w", keyID, tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("key %s of tenant %s: %w", keyID, tenantID, ErrNotFound)
	}
	return nil
}

// Keys lists a tenant's access keys, newest first.
func (s *Tenants) Keys(ctx context.Context, tenantID string) ([]AccessKey, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT tenant_id, key_id, created_at, revoked_at FROM tenant_access_keys WHERE tenant_id = $1 ORDER BY created_at DESC`,
		tenantID)
	if err != nil {
		return nil, fmt.Errorf("list keys of tenant %s: %w", tenantID, err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AccessKey, error) {
		var k AccessKey
		err := row.Scan(&k.TenantID, &k.KeyID, &k.CreatedAt, &k.RevokedAt)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("list keys of tenant %s: %w", tenantID, err)
	}
	return keys, nil
}

// TenantByKeyHash returns the tenant owning the live key with this hash, and
// its stored hash for the caller's constant-time comparison.
func (s *Tenants) TenantByKeyHash(ctx context.Context, hash []byte) (tenant.Tenant, []byte, error) {
	var stored []byte
	var id string
	err := s.pool.QueryRow(ctx,
		`SELECT tenant_id, key_hash FROM tenant_access_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
		hash).Scan(&id, &stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenant.Tenant{}, nil, ErrNotFound
	}
	if err != nil {
		return tenant.Tenant{}, nil, fmt.Errorf("look up access key: %w", err)
	}
	t, err := s.Get(ctx, id)
	if err != nil {
		return tenant.Tenant{}, nil, err
	}
	return t, stored, nil
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertKey(ctx context.Context, db execer, tenantID, key string) (AccessKey, error) {
	hash := accesskey.Hash(key)
	ak := AccessKey{TenantID: tenantID, KeyID: accesskey.ID(hash), CreatedAt: time.Now()}
	_, err := db.Exec(ctx,
		`INSERT INTO tenant_access_keys (tenant_id, key_id, key_hash) VALUES ($1, $2, $3)`,
		tenantID, ak.KeyID, hash)
	if isUniqueViolation(err) {
		return AccessKey{}, fmt.Errorf("access key: %w", ErrExists)
	}
	if err != nil {
		return AccessKey{}, fmt.Errorf("insert access key for tenant %s: %w", tenantID, err)
	}
	return ak, nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
