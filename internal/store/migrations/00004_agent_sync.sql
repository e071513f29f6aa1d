-- +goose Up

-- Which users of the tenant's Connect instance become agents, and how often
-- the agent sync runs.
ALTER TABLE tenants
    ADD COLUMN agent_filter          jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN sync_interval_seconds integer NOT NULL DEFAULT 900 CHECK (sync_interval_seconds >= 60),
    ADD COLUMN sync_enabled          boolean NOT NULL DEFAULT true;

-- What the sync keeps of each Connect user. last_modified is Connect's
-- LastModifiedTime: an unchanged value means DescribeUser is not needed.
ALTER TABLE agents
    ADD COLUMN first_name           text NOT NULL DEFAULT '',
    ADD COLUMN last_name            text NOT NULL DEFAULT '',
    ADD COLUMN email                text NOT NULL DEFAULT '',
    ADD COLUMN routing_profile_id   text NOT NULL DEFAULT '',
    ADD COLUMN security_profile_ids text[] NOT NULL DEFAULT '{}',
    ADD COLUMN hierarchy_group_id   text NOT NULL DEFAULT '',
    ADD COLUMN tags                 jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN last_modified        timestamptz,
    ADD COLUMN synced_at            timestamptz;

-- +goose Down
ALTER TABLE agents
    DROP COLUMN first_name, DROP COLUMN last_name, DROP COLUMN email, DROP COLUMN routing_profile_id,
    DROP COLUMN security_profile_ids, DROP COLUMN hierarchy_group_id, DROP COLUMN tags,
    DROP COLUMN last_modified, DROP COLUMN synced_at;
ALTER TABLE tenants DROP COLUMN agent_filter, DROP COLUMN sync_interval_seconds, DROP COLUMN sync_enabled;
