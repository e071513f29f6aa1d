-- +goose Up

-- When each missing contact ended, so that a run can tell the hours in
-- which Connect had calls and Firehose delivered none of them: a stream
-- that went quiet.
ALTER TABLE reconciled_contacts
    ADD COLUMN disconnected_at timestamptz;

-- The hours of a run's window in which the tenant's stream was quiet, and
-- the first of them.
ALTER TABLE reconciliations
    ADD COLUMN quiet_hours integer NOT NULL DEFAULT 0,
    ADD COLUMN quiet_from  timestamptz,
    -- Why a run stopped, when Connect refused it (access denied).
    ADD COLUMN failure     text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE reconciliations DROP COLUMN failure, DROP COLUMN quiet_from, DROP COLUMN quiet_hours;
ALTER TABLE reconciled_contacts DROP COLUMN disconnected_at;
