package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testenv"
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

func TestTenantsCommands(t *testing.T) {
	pool, dsn := testenv.Database(t)
	tenants := store.NewTenants(pool)
	keyLine := regexp.MustCompile(`access key \(shown once[^)]*\): (\S+)`)

	var firstKey string
	t.Run("add generates a key, prints it once, and stores only its hash", func(t *testing.T) {
		out := mustIngestctl(t, dsn, "tenants", "add", "--id", "acme", "--name", "Acme Ltd", "--instance-arn", arn,
			"--recording-bucket", "acme-rec-1", "--recording-bucket", "acme-rec-2")
		m := keyLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no key printed: %s", out)
		}
		firstKey = m[1]
		got, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(firstKey))
		if err != nil || got.ID != "acme" || len(got.RecordingBuckets) != 2 {
			t.Fatalf("stored tenant = %+v, %v", got, err)
		}
		var plain int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM tenant_access_keys WHERE key_hash = convert_to($1, 'UTF8')`, firstKey).Scan(&plain); err != nil || plain != 0 {
			t.Fatalf("the key is stored in plain text (%d rows, %v)", plain, err)
		}
	})

	t.Run("add with --access-key uses that key and does not echo it", func(t *testing.T) {
		key := "given-key-0123456789abcdefghij"
		out := mustIngestctl(t, dsn, "tenants", "add", "--id", "globex", "--name", "Globex", "--instance-arn", arn+"0", "--access-key", key)
		if strings.Contains(out, key) {
			t.Fatalf("the given key was printed: %s", out)
		}
		if got, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(key)); err != nil || got.ID != "globex" {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	t.Run("add refuses a malformed instance ARN and a short key", func(t *testing.T) {
		if _, err := ingestctl(t, dsn, "tenants", "add", "--id", "x", "--name", "X", "--instance-arn", "arn:aws:s3:::bucket"); err == nil {
			t.Fatal("accepted an S3 ARN as a Connect instance")
		}
		if _, err := ingestctl(t, dsn, "tenants", "add", "--id", "y", "--name", "Y", "--instance-arn", arn, "--access-key", "short"); err == nil {
			t.Fatal("accepted a 5-character key")
		}
	})

	t.Run("list --json is the stable form", func(t *testing.T) {
		var got []tenantJSON
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "tenants", "list", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != "acme" || got[0].InstanceARN != arn || len(got[0].RecordingBuckets) != 2 || got[1].RecordingBuckets == nil {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("rotate-key adds a key; both work until the old one is revoked", func(t *testing.T) {
		out := mustIngestctl(t, dsn, "tenants", "rotate-key", "acme")
		m := regexp.MustCompile(`shown once\): (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no key printed: %s", out)
		}
		newKey := m[1]
		for _, k := range []string{firstKey, newKey} {
			if _, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(k)); err != nil {
				t.Fatalf("key before revoke: %v", err)
			}
		}
		oldID := accesskey.ID(accesskey.Hash(firstKey))
		mustIngestctl(t, dsn, "tenants", "revoke-key", "acme", oldID)
		if _, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(firstKey)); err == nil {
			t.Fatal("the revoked key still works")
		}
		if _, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(newKey)); err != nil {
			t.Fatalf("the new key stopped working: %v", err)
		}
		if keys := mustIngestctl(t, dsn, "tenants", "keys", "acme"); !strings.Contains(keys, oldID) || strings.Count(keys, "\n") != 3 {
			t.Fatalf("keys listing:\n%s", keys)
		}
	})

	t.Run("rotate-key of an unknown tenant fails", func(t *testing.T) {
		if _, err := ingestctl(t, dsn, "tenants", "rotate-key", "nobody"); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestRejectedList(t *testing.T) {
	pool, dsn := testenv.Database(t)
	mustIngestctl(t, dsn, "tenants", "add", "--id", "acme", "--name", "Acme", "--instance-arn", arn)
	err := store.NewQuarantine(pool).Put(t.Context(), []store.Rejected{
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
		var got []rejectedJSON
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "rejected", "list", "--json", "--tenant", "acme")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || string(got[0].RawData) != "oops" || got[0].RecordIndex != 4 {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("filters select", func(t *testing.T) {
		var got []rejectedJSON
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
