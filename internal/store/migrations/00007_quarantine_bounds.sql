-- +goose Up

-- A quarantined record keeps a bounded prefix of its bytes, with the length
-- and SHA-256 of the whole, so that a hostile sender cannot write without
-- bound into Postgres; rows past their retention are purged by schedule.
ALTER TABLE rejected_records ADD COLUMN raw_length bigint, ADD COLUMN raw_sha256 text;
UPDATE rejected_records SET raw_length = length(raw_data), raw_sha256 = encode(sha256(raw_data), 'hex');
UPDATE rejected_records SET raw_data = substring(raw_data FROM 1 FOR 65536) WHERE length(raw_data) > 65536;
ALTER TABLE rejected_records ALTER COLUMN raw_length SET NOT NULL, ALTER COLUMN raw_sha256 SET NOT NULL;
CREATE INDEX rejected_records_received_at ON rejected_records (received_at);

-- +goose Down
DROP INDEX rejected_records_received_at;
ALTER TABLE rejected_records DROP COLUMN raw_length, DROP COLUMN raw_sha256;
