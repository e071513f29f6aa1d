package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
)

const standInInstance = "44444444-5555-6666-7777-888888888888"

// syncEnv runs ingestctl against a database of its own, the stack's
// Temporal with a real worker on a task queue of its own, and a Connect
// stand-in. Tenant IDs carry a suffix, because schedules live on the shared
// dev server; every tenant's schedule is deleted when the test ends.
type syncEnv struct {
	pool     *pgxpool.Pool
	env      map[string]string
	temporal client.Client
	dir      *connectapi.Directory
	server   *connectapi.Server
	url      string
	suffix   string
	arn      string
}

func newSyncEnv(t *testing.T, users int) *syncEnv {
	t.Helper()
	pool, dsn := testenv.Database(t)
	e := &syncEnv{pool: pool, temporal: testenv.Temporal(t), suffix: testenv.Suffix(),
		arn: "arn:aws:connect:eu-west-2:111122223333:instance/" + standInInstance}
	e.dir = connectapi.NewDirectory(standInInstance, users)
	e.server = connectapi.NewServer(e.dir, 0, 0)
	hs := httptest.NewServer(e.server.Handler())
	t.Cleanup(hs.Close)
	e.url = hs.URL
	// A tenant's removal ends by removing its objects from the recording
	// store.
	rs := testenv.RecordingStore(t)
	acts := &activities.Activities{
		Tenants: store.NewTenants(pool), Agents: store.NewAgents(pool), Conversations: store.NewConversations(pool),
		Erasures: store.NewErasures(pool), Temporal: e.temporal, Namespace: "default",
		MinIO: rs, Bucket: testenv.Bucket(t, rs, "recordings"),
		AWS: &awsx.Clients{StandInAccessKey: connectapi.DefaultAccessKey, StandInSecretKey: connectapi.DefaultSecretKey, ConnectRate: 100000, ConnectBurst: 1000},
	}
	queue := testenv.Worker(t, e.temporal, func(r worker.Registry) {
		r.RegisterWorkflow(workflows.AgentSyncWorkflow)
		r.RegisterWorkflow(workflows.RetentionWorkflow)
		r.RegisterActivity(acts)
	})
	e.env = map[string]string{"DATABASE_URL": dsn, "TEMPORAL_TASK_QUEUE": queue}
	t.Cleanup(func() {
		ts, err := store.NewTenants(pool).List(context.Background())
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, tn := range ts {
			if err := operations.DeleteAgentSync(context.Background(), e.temporal, tn.ID); err != nil {
				t.Errorf("cleanup: %v", err)
			}
			if err := operations.DeleteRetention(context.Background(), e.temporal, tn.ID); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return e
}

// id returns the test's own form of a tenant ID.
func (e *syncEnv) id(name string) string { return name + "-" + e.suffix }

func (e *syncEnv) ingestctl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), args, testenv.Getenv(e.env), &out, &errOut)
	return out.String(), err
}

func (e *syncEnv) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.ingestctl(t, args...)
	if err != nil {
		t.Fatalf("ingestctl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (e *syncEnv) schedule(t *testing.T, tenantID string) *client.ScheduleDescription {
	t.Helper()
	d, err := operations.DescribeAgentSync(t.Context(), e.temporal, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTenantsCommands(t *testing.T) {
	e := newSyncEnv(t, 5)
	tenants := store.NewTenants(e.pool)
	acme, globex := e.id("acme"), e.id("globex")
	keyLine := regexp.MustCompile(`access key \(shown once[^)]*\): (\S+)`)

	var firstKey string
	t.Run("add generates a key, prints it once, stores only its hash, and creates the schedule", func(t *testing.T) {
		out := e.must(t, "tenants", "add", "--id", acme, "--name", "Acme Ltd", "--instance-arn", e.arn,
			"--recording-bucket", "acme-rec-1", "--recording-bucket", "acme-rec-2", "--connect-endpoint-url", e.url)
		m := keyLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no key printed: %s", out)
		}
		firstKey = m[1]
		got, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(firstKey))
		if err != nil || got.ID != acme || len(got.RecordingBuckets) != 2 {
			t.Fatalf("stored tenant = %+v, %v", got, err)
		}
		var plain int
		if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM tenant_access_keys WHERE key_hash = convert_to($1, 'UTF8')`, firstKey).Scan(&plain); err != nil || plain != 0 {
			t.Fatalf("the key is stored in plain text (%d rows, %v)", plain, err)
		}
		if !strings.Contains(out, "agent-sync schedule agent-sync/"+acme+" created") {
			t.Fatalf("output does not report the schedule:\n%s", out)
		}
		if d := e.schedule(t, acme); d == nil || d.Schedule.State.Paused {
			t.Fatalf("schedule = %+v, want a running one", d)
		}
	})

	t.Run("add with --access-key uses that key and does not echo it", func(t *testing.T) {
		key := "given-key-0123456789abcdefghij"
		out := e.must(t, "tenants", "add", "--id", globex, "--name", "Globex", "--instance-arn", e.arn+"0", "--access-key", key,
			"--connect-endpoint-url", e.url, "--sync=false")
		if strings.Contains(out, key) {
			t.Fatalf("the given key was printed: %s", out)
		}
		if got, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(key)); err != nil || got.ID != globex {
			t.Fatalf("got %+v, %v", got, err)
		}
		if d := e.schedule(t, globex); d == nil || !d.Schedule.State.Paused || d.Info.NumActions != 0 {
			t.Fatalf("schedule = %+v, want a paused one that never ran", d)
		}
	})

	t.Run("add refuses a malformed instance ARN, a short key, a short interval and a bad filter", func(t *testing.T) {
		bad := [][]string{
			{"--id", e.id("x"), "--name", "X", "--instance-arn", "arn:aws:s3:::bucket"},
			{"--id", e.id("y"), "--name", "Y", "--instance-arn", e.arn, "--access-key", "short"},
			{"--id", e.id("z"), "--name", "Z", "--instance-arn", e.arn, "--sync-interval", "10s"},
			{"--id", e.id("w"), "--name", "W", "--instance-arn", e.arn, "--agent-tag", "no-equals-sign"},
			{"--id", "Upper Case", "--name", "U", "--instance-arn", e.arn},
		}
		for _, args := range bad {
			if _, err := e.ingestctl(t, append([]string{"tenants", "add"}, args...)...); err == nil {
				t.Errorf("accepted %v", args)
			}
		}
		if ts, _ := tenants.List(t.Context()); len(ts) != 2 {
			t.Fatalf("%d tenants stored, want only the 2 valid ones", len(ts))
		}
	})

	t.Run("list --json is the stable form", func(t *testing.T) {
		var got []tenantJSON
		if err := json.Unmarshal([]byte(e.must(t, "tenants", "list", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != acme || got[0].InstanceARN != e.arn || len(got[0].RecordingBuckets) != 2 ||
			got[1].RecordingBuckets == nil || !got[0].SyncEnabled || got[1].SyncEnabled || got[0].SyncInterval != "15m0s" {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("update changes only the flags given, and the schedule follows", func(t *testing.T) {
		out := e.must(t, "tenants", "update", acme, "--sync-interval", "30m", "--agent-routing-profile", "rp-sales", "--agent-tag", "team=blue")
		if !strings.Contains(out, "schedule agent-sync/"+acme+" updated") {
			t.Fatalf("output:\n%s", out)
		}
		got, err := tenants.Get(t.Context(), acme)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Acme Ltd" || len(got.RecordingBuckets) != 2 || got.ConnectEndpointURL != e.url ||
			got.AgentFilter.RoutingProfileIDs[0] != "rp-sales" || got.AgentFilter.Tag != "team=blue" || got.SyncInterval.String() != "30m0s" {
			t.Fatalf("after update = %+v", got)
		}
		if every := e.schedule(t, acme).Schedule.Spec.Intervals[0].Every.String(); every != "30m0s" {
			t.Fatalf("schedule every %s, want 30m", every)
		}
		e.must(t, "tenants", "update", acme, "--agent-all-users")
		if got, _ := tenants.Get(t.Context(), acme); got.AgentFilter.String() != "every user" {
			t.Fatalf("filter after --agent-all-users = %s", got.AgentFilter)
		}
	})

	t.Run("saving a tenant many times keeps one schedule", func(t *testing.T) {
		for range 3 {
			if out := e.must(t, "tenants", "update", acme, "--name", "Acme Ltd"); !strings.Contains(out, "unchanged") {
				t.Fatalf("output:\n%s", out)
			}
		}
		if runs := e.schedule(t, acme).Info.NumActions; runs != 1 {
			t.Fatalf("the schedule started %d syncs, want only the first", runs)
		}
	})

	t.Run("update --sync=false pauses the schedule, --sync=true resumes it", func(t *testing.T) {
		e.must(t, "tenants", "update", acme, "--sync=false")
		if !e.schedule(t, acme).Schedule.State.Paused {
			t.Fatal("schedule not paused")
		}
		e.must(t, "tenants", "update", acme, "--sync=true")
		if e.schedule(t, acme).Schedule.State.Paused {
			t.Fatal("schedule still paused")
		}
	})

	t.Run("show prints settings, agents and the schedule", func(t *testing.T) {
		e.must(t, "agents", "sync", acme) // the first run, triggered by add, may still be going
		var got tenantShowJSON
		if err := json.Unmarshal([]byte(e.must(t, "tenants", "show", acme, "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if got.ID != acme || got.Schedule == nil || got.Schedule.Every != "30m0s" || got.Schedule.Paused ||
			got.Schedule.NextRun == nil || got.Agents.Active != 5 || !strings.Contains(got.Schedule.TemporalUI, "/schedules/agent-sync/"+acme) {
			t.Fatalf("show = %+v, schedule %+v", got, got.Schedule)
		}
		text := e.must(t, "tenants", "show", acme)
		for _, want := range []string{"5 active, 0 inactive", "every user", "agent-sync/" + acme, e.url} {
			if !strings.Contains(text, want) {
				t.Errorf("show lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("rotate-key adds a key; both work until the old one is revoked", func(t *testing.T) {
		out := e.must(t, "tenants", "rotate-key", acme)
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
		e.must(t, "tenants", "revoke-key", acme, oldID)
		if _, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(firstKey)); err == nil {
			t.Fatal("the revoked key still works")
		}
		if _, _, err := tenants.TenantByKeyHash(t.Context(), accesskey.Hash(newKey)); err != nil {
			t.Fatalf("the new key stopped working: %v", err)
		}
		if keys := e.must(t, "tenants", "keys", acme); !strings.Contains(keys, oldID) || strings.Count(keys, "\n") != 3 {
			t.Fatalf("keys listing:\n%s", keys)
		}
	})

	t.Run("rotate-key, update and show of an unknown tenant fail", func(t *testing.T) {
		for _, args := range [][]string{{"rotate-key", "nobody"}, {"update", "nobody", "--name", "N"}, {"show", "nobody"}} {
			if _, err := e.ingestctl(t, append([]string{"tenants"}, args...)...); err == nil {
				t.Errorf("tenants %v: want an error", args)
			}
		}
	})

	t.Run("remove without --yes says what it would delete and deletes nothing", func(t *testing.T) {
		_, err := e.ingestctl(t, "tenants", "remove", globex)
		if err == nil || !strings.Contains(err.Error(), "--yes") {
			t.Fatalf("err = %v", err)
		}
		if _, err := tenants.Get(t.Context(), globex); err != nil {
			t.Fatalf("the tenant went: %v", err)
		}
	})

	t.Run("a retention period creates the tenant's daily retention schedule, and none removes it", func(t *testing.T) {
		out := e.must(t, "tenants", "update", globex, "--retention", "30d")
		if !strings.Contains(out, "retention schedule retention/"+globex+" created (retention 30d)") {
			t.Fatalf("update said %q", out)
		}
		if d, err := e.temporal.ScheduleClient().GetHandle(t.Context(), operations.RetentionID(globex)).Describe(t.Context()); err != nil ||
			len(d.Schedule.Spec.Intervals) != 1 || d.Schedule.Spec.Intervals[0].Every != 24*time.Hour {
			t.Fatalf("retention schedule %+v, %v; want one a day", d, err)
		}
		if got, _ := tenants.Get(t.Context(), globex); got.RetentionDays != 30 {
			t.Fatalf("stored retention %d days, want 30", got.RetentionDays)
		}
		if show := e.must(t, "tenants", "show", globex, "--json"); !strings.Contains(show, `"retention": "30d"`) {
			t.Fatalf("show --json lacks the retention: %s", show)
		}
		for _, bad := range []string{"30", "-1d", "30h", "99999d"} {
			if _, err := e.ingestctl(t, "tenants", "update", globex, "--retention", bad); err == nil {
				t.Errorf("--retention %s accepted", bad)
			}
		}
		out = e.must(t, "tenants", "update", globex, "--retention", "none")
		if !strings.Contains(out, "retention schedule retention/"+globex+" deleted") {
			t.Fatalf("update said %q", out)
		}
		if _, err := e.temporal.ScheduleClient().GetHandle(t.Context(), operations.RetentionID(globex)).Describe(t.Context()); err == nil {
			t.Fatal("the retention schedule is still there")
		}
	})

	t.Run("remove --dry-run says what would go and deletes nothing", func(t *testing.T) {
		out := e.must(t, "tenants", "remove", globex, "--dry-run")
		if !strings.Contains(out, "0 conversations (0 unfinished, cancelled first), 0 recordings in MinIO") || !strings.Contains(out, "nothing done") {
			t.Fatalf("dry run said %q", out)
		}
		if _, err := tenants.Get(t.Context(), globex); err != nil {
			t.Fatalf("the tenant went: %v", err)
		}
	})

	t.Run("remove --yes deletes the schedule and the tenant", func(t *testing.T) {
		e.must(t, "tenants", "remove", globex, "--yes")
		if _, err := tenants.Get(t.Context(), globex); err == nil {
			t.Fatal("the tenant is still stored")
		}
		if d := e.schedule(t, globex); d != nil {
			t.Fatalf("the schedule is still there: %+v", d.Schedule)
		}
	})
}
