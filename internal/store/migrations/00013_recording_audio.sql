-- +goose Up

-- What a recording holds, read from its header and measured as it was
-- copied: codec, sample rate, channels, bits, duration and each channel's
-- peak. Null for a recording copied before, or for one that is not audio.
ALTER TABLE recordings ADD COLUMN audio jsonb;

-- +goose Down
ALTER TABLE recordings DROP COLUMN audio;
