-- +goose Up

-- A tenant's Amazon Connect instances beyond its primary (tenants.instance_arn):
-- another country's instance, or a Global Resiliency replica in another
-- Region. The primary stays where it was, so nothing is migrated and the
-- programs of the previous version read tenants as before while this one
-- rolls out. An instance belongs to one tenant only.
CREATE TABLE tenant_instances (
    tenant_id         text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    instance_arn      text NOT NULL UNIQUE,
    recording_buckets text[] NOT NULL DEFAULT '{}',
    replica_of        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, instance_arn)
);

-- +goose Down
DROP TABLE tenant_instances;
