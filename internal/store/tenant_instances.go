package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/connectingest/connect-ingest/internal/tenant"
)

// ErrInstanceInUse is returned for an instance another tenant has, or one
// that a replica still names.
var ErrInstanceInUse = errors.New("instance in use")

// AddInstance adds an Amazon Connect instance to a tenant, after checking it
// with the tenant's rules. An instance any tenant has already, as its
// primary or as another, is refused with ErrInstanceInUse: its CTRs would
// belong to two tenants.
func (s *Tenants) AddInstance(ctx context.Context, tenantID string, in tenant.Instance) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One change to a tenant's instances at a time.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE`, tenantID); err != nil {
			return fmt.Errorf("lock tenant %s: %w", tenantID, err)
		}
		t, err := s.Get(ctx, tenantID)
		if err != nil {
			return err
		}
		if err := t.ValidateInstance(in); err != nil {
			return err
		}
		var owner string
		err = tx.QueryRow(ctx, `SELECT id FROM tenants WHERE instance_arn = $1
			UNION ALL SELECT tenant_id FROM tenant_instances WHERE instance_arn = $1 LIMIT 1`, in.ARN).Scan(&owner)
		switch {
		case err == nil:
			return fmt.Errorf("instance %s belongs to tenant %s: %w", in.ARN, owner, ErrInstanceInUse)
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("look up instance %s: %w", in.ARN, err)
		}
		buckets := in.RecordingBuckets
		if buckets == nil {
			buckets = []string{}
		}
		var replicaOf *string
		if in.ReplicaOf != "" {
			replicaOf = &in.ReplicaOf
		}
		_, err = tx.Exec(ctx, `INSERT INTO tenant_instances (tenant_id, instance_arn, recording_buckets, replica_of)
			VALUES ($1, $2, $3, $4)`, tenantID, in.ARN, buckets, replicaOf)
		if isUniqueViolation(err) {
			return fmt.Errorf("instance %s: %w", in.ARN, ErrInstanceInUse)
		}
		if err != nil {
			return fmt.Errorf("add instance %s to %s: %w", in.ARN, tenantID, err)
		}
		return nil
	})
}

// RemoveInstance removes one of a tenant's instances other than its
// primary; its CTRs are refused from then on. An instance a replica still
// names is refused with ErrInstanceInUse.
func (s *Tenants) RemoveInstance(ctx context.Context, tenantID, arn string) error {
	var replicas int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tenant_instances WHERE tenant_id = $1 AND replica_of = $2`,
		tenantID, arn).Scan(&replicas); err != nil {
		return fmt.Errorf("look up replicas of %s: %w", arn, err)
	}
	if replicas > 0 {
		return fmt.Errorf("instance %s has %d replica(s): remove them first: %w", arn, replicas, ErrInstanceInUse)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM tenant_instances WHERE tenant_id = $1 AND instance_arn = $2`, tenantID, arn)
	if err != nil {
		return fmt.Errorf("remove instance %s from %s: %w", arn, tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("instance %s of tenant %s (the primary is changed with tenants update): %w", arn, tenantID, ErrNotFound)
	}
	return nil
}
