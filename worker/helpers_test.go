package main

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// storeTenant creates a tenant with a unique ID (workflow IDs derive from it,
// and the Temporal dev server keeps every run's workflows) whose recordings
// are in bucket on the S3 stand-in.
func storeTenant(t *testing.T, pool *pgxpool.Pool, bucket string) tenant.Tenant {
	t.Helper()
	tenant := tenant.Tenant{
		ID: "t" + testenv.Suffix(), Name: "Acme", RecordingBuckets: []string{bucket},
		InstanceARN:    "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555",
		AWSEndpointURL: "http://127.0.0.1:9100",
	}
	if _, err := store.NewTenants(pool).Create(context.Background(), tenant, accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	return tenant
}
