-- +goose Up

-- A reconciliation counts apart the contacts Connect reports that were
-- erased: refused, never recovered, never counted as ingested.
ALTER TABLE reconciliations ADD COLUMN erased integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE reconciliations DROP COLUMN erased;
