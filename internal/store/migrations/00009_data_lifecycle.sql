-- +goose Up

-- A recording Connect marked DELETED, or no longer lists, in a later CTR
-- version: its MinIO copy is removed and the row says when and why.
ALTER TABLE recordings
    ADD COLUMN deleted_at      timestamptz,
    ADD COLUMN deletion_reason text NOT NULL DEFAULT '';

-- How long a tenant's conversations are kept; NULL keeps them until erased.
ALTER TABLE tenants
    ADD COLUMN retention_days integer CHECK (retention_days >= 1);

-- The tombstone of an erased contact: all that is left of it. No foreign key
-- to tenants, so that a removed tenant's erasures remain on record. A CTR of
-- an erased contact that arrives later is refused and counted here.
CREATE TABLE erasures (
    tenant_id       text NOT NULL,
    contact_id      text NOT NULL,
    reason          text NOT NULL,
    requested_by    text NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    erased_at       timestamptz,
    refused_count   bigint NOT NULL DEFAULT 0,
    last_refused_at timestamptz,
    PRIMARY KEY (tenant_id, contact_id)
);
CREATE INDEX erasures_requested ON erasures (tenant_id, requested_at);

-- Retention finds a tenant's oldest conversations by when the call ended.
CREATE INDEX conversations_age ON conversations
    (tenant_id, (coalesce(disconnect_timestamp, initiation_timestamp, last_update_timestamp)));

-- +goose Down
DROP INDEX conversations_age;
DROP TABLE erasures;
ALTER TABLE tenants DROP COLUMN retention_days;
ALTER TABLE recordings DROP COLUMN deleted_at, DROP COLUMN deletion_reason;
