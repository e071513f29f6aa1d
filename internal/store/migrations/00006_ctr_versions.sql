-- +goose Up

-- The claim check: every CTR version, stored once before Temporal hears of
-- it. Workflows carry a reference (tenant, contact, LastUpdateTimestamp and
-- the content's SHA-256), never the CTR, so customer data stays out of
-- workflow history. bytea keeps the bytes exactly as Connect sent them.
CREATE TABLE ctr_versions (
    tenant_id             text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    contact_id            text NOT NULL,
    last_update_timestamp timestamptz NOT NULL,
    sha256                text NOT NULL,
    ctr                   bytea NOT NULL,
    firehose_request_id   text NOT NULL DEFAULT '',
    received_at           timestamptz NOT NULL DEFAULT now(),
    stored_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, contact_id, last_update_timestamp)
);

-- +goose Down
DROP TABLE ctr_versions;
