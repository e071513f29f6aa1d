-- +goose Up

-- A local stand-in for the Connect API is another server than the S3 one,
-- so a tenant can override the Connect endpoint on its own.
ALTER TABLE tenants ADD COLUMN connect_endpoint_url text NOT NULL DEFAULT '';

-- The agent sync that last saw the user in Connect, matching the tenant's
-- filter; after a sync, active agents it did not see become inactive.
ALTER TABLE agents ADD COLUMN last_seen_sync text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE agents DROP COLUMN last_seen_sync;
ALTER TABLE tenants DROP COLUMN connect_endpoint_url;
