-- +goose Up

-- Operators of the admin API, each with a token of their own: only its
-- SHA-256 is stored. Role read may list and show calls; operate may also
-- retry and cancel them. A revoked token is refused from then on.
CREATE TABLE operators (
    name         text PRIMARY KEY,
    role         text NOT NULL CHECK (role IN ('read', 'operate')),
    token_sha256 text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- Every retry and cancel, by whom, on what, and how it went.
CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    operator  text NOT NULL,
    action    text NOT NULL,
    target    text NOT NULL DEFAULT '',
    filter    jsonb NOT NULL DEFAULT '{}',
    reason    text NOT NULL DEFAULT '',
    outcome   text NOT NULL,
    detail    text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE operators;
