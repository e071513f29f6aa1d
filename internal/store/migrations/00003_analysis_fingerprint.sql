-- +goose Up

-- Which recordings the last analysis job carried, as a fingerprint of their
-- source locations: an update that brings a different recording is analysed
-- again, a repeat of the same one is not.
ALTER TABLE conversations ADD COLUMN analysis_fingerprint text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE conversations DROP COLUMN analysis_fingerprint;
