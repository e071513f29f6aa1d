-- +goose Up

-- A tenant is one Amazon Connect instance of one customer.
CREATE TABLE tenants (
    id                text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name              text NOT NULL,
    instance_arn      text NOT NULL,
    recording_buckets text[] NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Firehose access keys, stored as SHA-256 hashes. A tenant may hold several
-- live keys while one is rotated; revoked keys stay for the audit trail.
CREATE TABLE tenant_access_keys (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_id     text NOT NULL,
    key_hash   bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, key_id)
);

-- Amazon Connect users, kept in sync as agents. Never deleted: old
-- conversations reference them.
CREATE TABLE agents (
    tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    text NOT NULL,
    username   text NOT NULL,
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);

-- One row per Amazon Connect contact, holding the newest CTR version seen.
CREATE TABLE conversations (
    tenant_id             text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    contact_id            text NOT NULL,
    last_update_timestamp timestamptz NOT NULL,
    state                 text NOT NULL,
    state_detail          text NOT NULL DEFAULT '',
    channel               text NOT NULL DEFAULT '',
    initiation_method     text NOT NULL DEFAULT '',
    initiation_timestamp  timestamptz,
    disconnect_timestamp  timestamptz,
    queue_name            text NOT NULL DEFAULT '',
    agent_arn             text NOT NULL DEFAULT '',
    agent_user_id         text NOT NULL DEFAULT '',
    agent_username        text NOT NULL DEFAULT '',
    customer_endpoint     text NOT NULL DEFAULT '',
    system_endpoint       text NOT NULL DEFAULT '',
    disconnect_reason     text NOT NULL DEFAULT '',
    initial_contact_id    text NOT NULL DEFAULT '',
    previous_contact_id   text NOT NULL DEFAULT '',
    next_contact_id       text NOT NULL DEFAULT '',
    attributes            jsonb NOT NULL DEFAULT '{}',
    ctr                   jsonb NOT NULL,
    analysis_enqueued_at  timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, contact_id)
);
CREATE INDEX conversations_state ON conversations (tenant_id, state);

-- One row per recording of a contact, keyed by where Connect stored it.
CREATE TABLE recordings (
    tenant_id       text NOT NULL,
    contact_id      text NOT NULL,
    source_location text NOT NULL,
    participant     text NOT NULL DEFAULT '',
    media_type      text NOT NULL DEFAULT '',
    object_bucket   text NOT NULL DEFAULT '',
    object_key      text NOT NULL DEFAULT '',
    size_bytes      bigint,
    content_type    text NOT NULL DEFAULT '',
    sha256          text NOT NULL DEFAULT '',
    copied_at       timestamptz,
    PRIMARY KEY (tenant_id, contact_id, source_location),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES conversations (tenant_id, contact_id) ON DELETE CASCADE
);

-- Firehose records that can never succeed, kept whole for inspection. The
-- unique key makes a retried Firehose delivery quarantine each record once.
CREATE TABLE rejected_records (
    id                  bigserial PRIMARY KEY,
    tenant_id           text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    firehose_request_id text NOT NULL,
    record_index        integer NOT NULL,
    reason              text NOT NULL,
    detail              text NOT NULL DEFAULT '',
    raw_data            bytea NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, firehose_request_id, record_index)
);
CREATE INDEX rejected_records_received ON rejected_records (tenant_id, received_at);

-- +goose Down
DROP TABLE rejected_records;
DROP TABLE recordings;
DROP TABLE conversations;
DROP TABLE agents;
DROP TABLE tenant_access_keys;
DROP TABLE tenants;
