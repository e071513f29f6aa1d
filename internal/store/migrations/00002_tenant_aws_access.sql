-- +goose Up

-- How connect-ingest reaches a tenant's AWS account (recordings in S3, users
-- in Amazon Connect). aws_endpoint_url overrides AWS's endpoints for local
-- stand-ins; aws_role_arn, when set, is assumed (with aws_external_id) on top
-- of the default credential chain.
ALTER TABLE tenants
    ADD COLUMN aws_endpoint_url text NOT NULL DEFAULT '',
    ADD COLUMN aws_role_arn     text NOT NULL DEFAULT '',
    ADD COLUMN aws_external_id  text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tenants
    DROP COLUMN aws_endpoint_url,
    DROP COLUMN aws_role_arn,
    DROP COLUMN aws_external_id;
