package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/operations"
)

// ingestctl runs one command line against dsn and returns its output.
func ingestctl(t *testing.T, dsn string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, testenv.Getenv(map[string]string{"DATABASE_URL": dsn}), &out, &errOut)
	return out.String(), err
}

func mustIngestctl(t *testing.T, dsn string, args ...string) string {
	t.Helper()
	out, err := ingestctl(t, dsn, args...)
	if err != nil {
		t.Fatalf("ingestctl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

const arn = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"

// addTenant stores a tenant directly, for tests of commands other than
// `tenants add`: no agent-sync schedule is made for it.
func addTenant(t *testing.T, pool *pgxpool.Pool, id string) {
	t.Helper()
	if _, err := store.NewTenants(pool).Create(t.Context(), tenant.Tenant{ID: id, Name: id, InstanceARN: arn}, accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
}

func TestRejectedList(t *testing.T) {
	pool, dsn := testenv.Database(t)
	addTenant(t, pool, "acme")
	_, err := store.NewQuarantine(pool).Put(t.Context(), []store.Rejected{
		{TenantID: "acme", FirehoseRequestID: "req-9", RecordIndex: 4, Reason: "not_json", Detail: "invalid character", RawData: []byte("oops")},
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the table names tenant, request, record and reason", func(t *testing.T) {
		out := mustIngestctl(t, dsn, "rejected", "list")
		for _, want := range []string{"acme", "req-9", "not_json", "invalid character"} {
			if !strings.Contains(out, want) {
				t.Errorf("listing lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("--json carries the raw bytes", func(t *testing.T) {
		var got []operations.RejectedView
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "rejected", "list", "--json", "--tenant", "acme")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || string(got[0].RawData) != "oops" || got[0].RecordIndex != 4 {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("filters select", func(t *testing.T) {
		var got []operations.RejectedView
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "rejected", "list", "--json", "--reason", "bad_base64")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("got %d records for another reason", len(got))
		}
	})
}

func TestMigrateCommand(t *testing.T) {
	_, dsn := testenv.Database(t)
	t.Run("on an up-to-date database it applies nothing", func(t *testing.T) {
		if out := mustIngestctl(t, dsn, "migrate"); !strings.Contains(out, "0 applied") {
			t.Fatalf("output: %s", out)
		}
	})
}
