package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
)

func TestTenantInstances(t *testing.T) {
	e := newSyncEnv(t, 1)
	acme, globex := e.id("acme"), e.id("globex")
	e.must(t, "tenants", "add", "--id", acme, "--name", "Acme", "--instance-arn", e.arn, "--recording-bucket", "acme-rec",
		"--connect-endpoint-url", e.url, "--sync=false", "--access-key", "acme-key-0123456789abcdefghij")
	globexARN := "arn:aws:connect:us-east-1:111122223333:instance/99999999-5555-6666-7777-888888888888"
	e.must(t, "tenants", "add", "--id", globex, "--name", "Globex", "--instance-arn", globexARN,
		"--connect-endpoint-url", e.url, "--sync=false")
	replica := strings.Replace(e.arn, "eu-west-2", "eu-central-1", 1)
	france := "arn:aws:connect:eu-west-3:111122223333:instance/12121212-5555-6666-7777-888888888888"

	t.Run("a tenant starts with its one instance, the primary", func(t *testing.T) {
		var views []instanceView
		if err := json.Unmarshal([]byte(e.must(t, "tenants", "instances", "list", acme, "--json")), &views); err != nil {
			t.Fatal(err)
		}
		if len(views) != 1 || !views[0].Primary || views[0].ARN != e.arn || views[0].RecordingBuckets[0] != "acme-rec" {
			t.Fatalf("instances %+v", views)
		}
	})

	t.Run("another country's instance and a Global Resiliency replica are added, with their buckets", func(t *testing.T) {
		e.must(t, "tenants", "instances", "add", acme, "--instance-arn", france, "--recording-bucket", "acme-rec-fr")
		e.must(t, "tenants", "instances", "add", acme, "--instance-arn", replica, "--replica-of", e.arn,
			"--recording-bucket", "acme-rec-dr")
		got, _, err := store.NewTenants(e.pool).TenantByKeyHash(t.Context(), accesskey.Hash("acme-key-0123456789abcdefghij"))
		if err != nil {
			t.Fatal(err)
		}
		for _, arn := range []string{e.arn, france, replica} {
			if !got.HasInstance(arn) {
				t.Errorf("the gateway's view of the tenant lacks %s", arn)
			}
		}
		if b := got.AllRecordingBuckets(); strings.Join(b, ",") != "acme-rec,acme-rec-fr,acme-rec-dr" {
			t.Errorf("buckets %v", b)
		}
		if s := got.SyncedInstanceARNs(); len(s) != 2 || s[1] != france {
			t.Errorf("agents synced from %v, want the primary and France, not the replica", s)
		}
		out := e.must(t, "tenants", "instances", "list", acme)
		if !strings.Contains(out, "replica of "+e.arn) || !strings.Contains(out, "from the replicated instance") {
			t.Errorf("list:\n%s", out)
		}
	})

	t.Run("an instance is refused when malformed, already the tenant's, another tenant's, or a false replica", func(t *testing.T) {
		for name, args := range map[string][]string{
			"malformed":            {acme, "--instance-arn", "arn:aws:s3:::bucket"},
			"already the tenant's": {acme, "--instance-arn", france},
			"another tenant's":     {acme, "--instance-arn", globexARN},
			"a replica with another ID": {acme, "--instance-arn", "arn:aws:connect:us-west-2:111122223333:instance/abababab-5555-6666-7777-888888888888",
				"--replica-of", e.arn},
			"a replica in the same Region": {acme, "--instance-arn", strings.Replace(e.arn, "111122223333", "999988887777", 1), "--replica-of", e.arn},
			"a replica of a stranger":      {globex, "--instance-arn", strings.Replace(globexARN, "us-east-1", "us-west-2", 1), "--replica-of", e.arn},
		} {
			if out, err := e.ingestctl(t, append([]string{"tenants", "instances", "add"}, args...)...); err == nil {
				t.Errorf("%s: accepted: %s", name, out)
			}
		}
	})

	t.Run("an instance a replica names is kept until the replica goes; the primary is never removed here", func(t *testing.T) {
		if _, err := e.ingestctl(t, "tenants", "instances", "remove", acme, e.arn); err == nil {
			t.Error("the primary was removed")
		}
		e.must(t, "tenants", "instances", "remove", acme, replica)
		e.must(t, "tenants", "instances", "remove", acme, france)
		got, err := store.NewTenants(e.pool).Get(t.Context(), acme)
		if err != nil || len(got.Instances) != 0 || got.HasInstance(replica) {
			t.Fatalf("tenant %+v, %v", got, err)
		}
	})
}
