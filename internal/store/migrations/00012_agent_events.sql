-- +goose Up

-- What the agent events on a tenant's stream tell of each agent: its last
-- login and logout, and its status (for example Available, ROUTABLE) since
-- when.
ALTER TABLE agents
    ADD COLUMN last_login_at  timestamptz,
    ADD COLUMN last_logout_at timestamptz,
    ADD COLUMN status         text NOT NULL DEFAULT '',
    ADD COLUMN status_type    text NOT NULL DEFAULT '',
    ADD COLUMN status_at      timestamptz;

-- +goose Down
ALTER TABLE agents DROP COLUMN status_at, DROP COLUMN status_type, DROP COLUMN status,
    DROP COLUMN last_logout_at, DROP COLUMN last_login_at;
