-- +goose Up

-- Where a CTR version came from: firehose (the gateway, or a replay of
-- Firehose's backup) or reconciled (rebuilt from Amazon Connect's own
-- contact API for a contact whose CTR never arrived).
ALTER TABLE ctr_versions
    ADD COLUMN origin text NOT NULL DEFAULT 'firehose';

-- One reconciliation or backfill run over a window of a tenant's contacts,
-- with what it found. run_id is its workflow ID.
CREATE TABLE reconciliations (
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    run_id        text NOT NULL,
    kind          text NOT NULL,
    window_from   timestamptz NOT NULL,
    window_to     timestamptz NOT NULL,
    dry_run       boolean NOT NULL DEFAULT false,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    seen          integer NOT NULL DEFAULT 0,
    present       integer NOT NULL DEFAULT 0,
    recovered     integer NOT NULL DEFAULT 0,
    unrecoverable integer NOT NULL DEFAULT 0,
    analysed      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, run_id)
);
CREATE INDEX reconciliations_started ON reconciliations (tenant_id, started_at DESC);

-- The contacts a run recovered, would recover (a dry run) or could not,
-- with the reason.
CREATE TABLE reconciled_contacts (
    tenant_id  text NOT NULL,
    run_id     text NOT NULL,
    contact_id text NOT NULL,
    outcome    text NOT NULL,
    reason     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, contact_id),
    FOREIGN KEY (tenant_id, run_id) REFERENCES reconciliations (tenant_id, run_id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE reconciled_contacts;
DROP TABLE reconciliations;
ALTER TABLE ctr_versions DROP COLUMN origin;
