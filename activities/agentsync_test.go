package activities_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/agents"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
)

const syncInstance = "22222222-3333-4444-5555-666666666666"

// syncFixture is a tenant whose Connect instance is served by the stand-in.
type syncFixture struct {
	*fixture
	dir    *connectapi.Directory
	server *connectapi.Server
	tenant string
}

func newSyncFixture(t *testing.T, users int, filter agents.Filter, perSecond float64, burst int) *syncFixture {
	t.Helper()
	f := newFixture(t)
	dir := connectapi.NewDirectory(syncInstance, users)
	srv := connectapi.NewServer(dir, perSecond, burst).WithCredentials(f.acts.AWS.StandInAccessKey, f.acts.AWS.StandInSecretKey)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	tenant := tenant.Tenant{
		ID: "synced", Name: "Synced", InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/" + syncInstance,
		ConnectEndpointURL: hs.URL, AgentFilter: filter,
	}
	if _, err := f.acts.Tenants.Create(context.Background(), tenant, accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	// Fast enough for thousands of users in a test; TestSyncAgentsRate sets
	// a real quota.
	f.acts.AWS.ConnectRate, f.acts.AWS.ConnectBurst = 100000, 1000
	return &syncFixture{fixture: f, dir: dir, server: srv, tenant: tenant.ID}
}

// sync runs every page of one sync, then finishes it, as the workflow does.
func (f *syncFixture) sync(t *testing.T, id string) (activities.SyncAgentsPageResult, activities.FinishAgentSyncResult, int) {
	t.Helper()
	var total activities.SyncAgentsPageResult
	pages := 0
	token := ""
	for {
		val, err := f.env.ExecuteActivity(f.acts.SyncAgentsPage, activities.SyncAgentsPageInput{TenantID: f.tenant, SyncID: id, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		var page activities.SyncAgentsPageResult
		if err := val.Get(&page); err != nil {
			t.Fatal(err)
		}
		pages++
		total.Listed += page.Listed
		total.Described += page.Described
		total.Kept += page.Kept
		if token = page.NextToken; token == "" {
			break
		}
	}
	val, err := f.env.ExecuteActivity(f.acts.FinishAgentSync, activities.FinishAgentSyncInput{TenantID: f.tenant, SyncID: id})
	if err != nil {
		t.Fatal(err)
	}
	var fin activities.FinishAgentSyncResult
	if err := val.Get(&fin); err != nil {
		t.Fatal(err)
	}
	return total, fin, pages
}

func (f *syncFixture) active(t *testing.T) map[string]store.Agent {
	t.Helper()
	list, err := f.acts.Agents.List(context.Background(), f.tenant)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Agent{}
	for _, a := range list {
		if a.Active {
			out[a.UserID] = a
		}
	}
	return out
}

func TestSyncAgents(t *testing.T) {
	f := newSyncFixture(t, 2100, agents.Filter{}, 0, 0)

	t.Run("a first sync describes every user over every page and stores them as agents", func(t *testing.T) {
		total, fin, pages := f.sync(t, "sync-1")
		if pages != 3 || total.Listed != 2100 || total.Described != 2100 || total.Kept != 2100 || fin.Deactivated != 0 {
			t.Fatalf("pages %d, %+v, %+v", pages, total, fin)
		}
		a := f.active(t)[connectapi.GeneratedUser(5).ID]
		want := connectapi.GeneratedUser(5)
		if a.Username != want.Username || a.Email != want.Email || a.RoutingProfileID != want.RoutingProfileID || a.Tags["team"] != want.Tags["team"] {
			t.Fatalf("agent = %+v", a)
		}
	})

	t.Run("a sync with nothing changed costs ListUsers pages only", func(t *testing.T) {
		describes := f.server.DescribeCalls.Load()
		total, fin, _ := f.sync(t, "sync-2")
		if total.Described != 0 || f.server.DescribeCalls.Load() != describes || total.Kept != 2100 || fin.Deactivated != 0 {
			t.Fatalf("%+v %+v, %d DescribeUser calls", total, fin, f.server.DescribeCalls.Load()-describes)
		}
	})

	t.Run("a renamed user is described and updated; a removed one becomes inactive", func(t *testing.T) {
		renamed := connectapi.GeneratedUser(9)
		renamed.Username = "renamed.user"
		f.dir.Put(renamed)
		f.dir.Remove(connectapi.GeneratedUser(10).ID)
		total, fin, _ := f.sync(t, "sync-3")
		active := f.active(t)
		if total.Described != 1 || fin.Deactivated != 1 || active[renamed.ID].Username != "renamed.user" {
			t.Fatalf("%+v %+v, renamed = %+v", total, fin, active[renamed.ID])
		}
		if _, ok := active[connectapi.GeneratedUser(10).ID]; ok {
			t.Fatal("the removed user is still active")
		}
		all, _ := f.acts.Agents.List(context.Background(), f.tenant)
		if len(all) != 2100 {
			t.Fatalf("%d agents stored, want 2100: agents are never deleted", len(all))
		}
	})
}

func TestSyncAgentsFilter(t *testing.T) {
	f := newSyncFixture(t, 30, agents.Filter{RoutingProfileIDs: []string{"rp-retail"}}, 0, 0)
	t.Run("only users matching the tenant's filter become agents", func(t *testing.T) {
		total, _, _ := f.sync(t, "sync-1")
		active := f.active(t)
		if total.Kept != 10 || len(active) != 10 {
			t.Fatalf("kept %d, active %d, want 10 of 30", total.Kept, len(active))
		}
		for _, a := range active {
			if a.RoutingProfileID != "rp-retail" {
				t.Fatalf("agent %s has routing profile %s", a.Username, a.RoutingProfileID)
			}
		}
	})
}

func TestSyncAgentsRate(t *testing.T) {
	// The stand-in allows 40 requests/s with a burst of 5; the sync's limiter
	// (the fixture's AWSClients) is set below that.
	f := newSyncFixture(t, 60, agents.Filter{}, 40, 5)
	f.acts.AWS.ConnectRate, f.acts.AWS.ConnectBurst = 30, 5
	t.Run("the client-side limiter keeps the sync under the quota: no 429", func(t *testing.T) {
		total, _, _ := f.sync(t, "sync-1")
		if total.Kept != 60 || f.server.Throttled.Load() != 0 {
			t.Fatalf("kept %d, throttled %d", total.Kept, f.server.Throttled.Load())
		}
	})
}

func TestInstanceID(t *testing.T) {
	if id, err := activities.InstanceID("arn:aws:connect:eu-west-2:1:instance/abc-1"); err != nil || id != "abc-1" {
		t.Fatalf("got %q, %v", id, err)
	}
	if _, err := activities.InstanceID("arn:aws:s3:::bucket"); err == nil {
		t.Fatal("an S3 ARN gave an instance ID")
	}
}

func TestSyncAgentsRefused(t *testing.T) {
	t.Run("a tenant whose credentials Connect refuses fails at once, not retried, naming the refusal", func(t *testing.T) {
		f := newSyncFixture(t, 10, agents.Filter{}, 0, 0)
		f.server.WithCredentials("someone-else", "their-secret")
		_, err := f.env.ExecuteActivity(f.acts.SyncAgentsPage, activities.SyncAgentsPageInput{TenantID: f.tenant, SyncID: "s-1"})
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeConnectRefused || !appErr.NonRetryable() ||
			!strings.Contains(err.Error(), "UnrecognizedClientException") {
			t.Fatalf("error %v, want a non-retryable %s", err, activities.ErrTypeConnectRefused)
		}
		if f.server.Refused.Load() != 1 {
			t.Errorf("%d requests refused, want 1: a refusal is not retried", f.server.Refused.Load())
		}
	})
}
