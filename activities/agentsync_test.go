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

// sync runs every page of one sync, instance by instance, then finishes it,
// as the workflow does.
func (f *syncFixture) sync(t *testing.T, id string) (activities.SyncAgentsPageResult, activities.FinishAgentSyncResult, int) {
	t.Helper()
	var total activities.SyncAgentsPageResult
	pages := 0
	in := activities.SyncAgentsPageInput{TenantID: f.tenant, SyncID: id}
	for {
		val, err := f.env.ExecuteActivity(f.acts.SyncAgentsPage, in)
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
		total.Method = page.Method
		in.Method, in.NextToken = page.Method, page.NextToken
		if in.NextToken != "" {
			continue
		}
		if page.NextInstanceARN == "" {
			break
		}
		in.InstanceARN, in.Method = page.NextInstanceARN, ""
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

func TestSyncAgentsWithoutSearch(t *testing.T) {
	// A role without connect:SearchUsers: the sync lists and describes.
	f := newSyncFixture(t, 2100, agents.Filter{}, 0, 0)
	f.server.WithSearchUsers(false)

	t.Run("a first sync describes every user over every page and stores them as agents", func(t *testing.T) {
		total, fin, pages := f.sync(t, "sync-1")
		if pages != 3 || total.Listed != 2100 || total.Described != 2100 || total.Kept != 2100 || fin.Deactivated != 0 ||
			total.Method != activities.SyncByList {
			t.Fatalf("pages %d, %+v, %+v", pages, total, fin)
		}
		a := f.active(t)[connectapi.GeneratedUser(5).ID]
		want := connectapi.GeneratedUser(5)
		if a.Username != want.Username || a.Email != want.Email || a.RoutingProfileID != want.RoutingProfileID || a.Tags["team"] != want.Tags["team"] {
			t.Fatalf("agent = %+v", a)
		}
	})

	t.Run("a sync with nothing changed costs ListUsers pages only, and asks SearchUsers once", func(t *testing.T) {
		describes, lists, searches := f.server.DescribeCalls.Load(), f.server.ListCalls.Load(), f.server.SearchUsersCalls.Load()
		total, fin, _ := f.sync(t, "sync-2")
		if total.Described != 0 || f.server.DescribeCalls.Load() != describes || total.Kept != 2100 || fin.Deactivated != 0 {
			t.Fatalf("%+v %+v, %d DescribeUser calls", total, fin, f.server.DescribeCalls.Load()-describes)
		}
		if l, s := f.server.ListCalls.Load()-lists, f.server.SearchUsersCalls.Load()-searches; l != 3 || s != 1 {
			t.Fatalf("%d ListUsers and %d SearchUsers calls, want 3 and 1", l, s)
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

func TestSyncAgentsBySearch(t *testing.T) {
	f := newSyncFixture(t, 2100, agents.Filter{}, 0, 0)

	t.Run("SearchUsers brings full users 100 a call, with no DescribeUser at all", func(t *testing.T) {
		total, fin, pages := f.sync(t, "sync-1")
		if pages != 21 || total.Listed != 2100 || total.Described != 0 || total.Kept != 2100 || fin.Deactivated != 0 ||
			total.Method != activities.SyncBySearch {
			t.Fatalf("pages %d, %+v, %+v", pages, total, fin)
		}
		if d, l, s := f.server.DescribeCalls.Load(), f.server.ListCalls.Load(), f.server.SearchUsersCalls.Load(); d != 0 || l != 0 || s != 21 {
			t.Fatalf("%d DescribeUser, %d ListUsers, %d SearchUsers calls; want 0, 0 and 21", d, l, s)
		}
		want := connectapi.GeneratedUser(5)
		a := f.active(t)[want.ID]
		if a.Username != want.Username || a.FirstName != want.FirstName || a.RoutingProfileID != want.RoutingProfileID ||
			a.HierarchyGroupID != want.HierarchyGroupID || a.Tags["team"] != want.Tags["team"] {
			t.Fatalf("agent = %+v", a)
		}
	})

	t.Run("an e-mail address a describe stored is kept by later searches, whose results carry none", func(t *testing.T) {
		user := connectapi.GeneratedUser(7)
		f.server.WithSearchUsers(false)
		if total, _, _ := f.sync(t, "sync-2"); total.Method != activities.SyncByList || f.active(t)[user.ID].Email != user.Email {
			t.Fatalf("the listing sync (%s) stored e-mail %q", total.Method, f.active(t)[user.ID].Email)
		}
		f.server.WithSearchUsers(true)
		if total, _, _ := f.sync(t, "sync-3"); total.Method != activities.SyncBySearch {
			t.Fatalf("method %s", total.Method)
		}
		if got := f.active(t)[user.ID]; got.Email != user.Email || got.LastModified == nil {
			t.Fatalf("after a search the agent is %+v: its e-mail and LastModifiedTime must stay", got)
		}
	})

	t.Run("a renamed user is updated and a removed one made inactive by the next search", func(t *testing.T) {
		f2 := newSyncFixture(t, 150, agents.Filter{}, 0, 0)
		f2.sync(t, "s-1")
		renamed := connectapi.GeneratedUser(9)
		renamed.Username = "renamed.user"
		f2.dir.Put(renamed)
		f2.dir.Remove(connectapi.GeneratedUser(10).ID)
		total, fin, _ := f2.sync(t, "s-2")
		active := f2.active(t)
		if total.Kept != 149 || fin.Deactivated != 1 || active[renamed.ID].Username != "renamed.user" {
			t.Fatalf("%+v %+v, renamed = %+v", total, fin, active[renamed.ID])
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

func TestSyncAgentsAcrossInstances(t *testing.T) {
	f := newSyncFixture(t, 150, agents.Filter{}, 0, 0)
	const franceID = "77777777-3333-4444-5555-666666666666"
	france := connectapi.NewDirectory(franceID, 0)
	for i := 1000; i < 1030; i++ {
		france.Put(connectapi.GeneratedUser(i))
	}
	f.server.WithDirectory(france)
	ctx := context.Background()
	primary := "arn:aws:connect:eu-west-2:111122223333:instance/" + syncInstance
	if err := f.acts.Tenants.AddInstance(ctx, f.tenant, tenant.Instance{ARN: "arn:aws:connect:eu-west-3:111122223333:instance/" + franceID}); err != nil {
		t.Fatal(err)
	}
	// A replica shares the primary's users; the stand-in does not even
	// serve it, so reading it would fail.
	if err := f.acts.Tenants.AddInstance(ctx, f.tenant, tenant.Instance{
		ARN: strings.Replace(primary, "eu-west-2", "eu-central-1", 1), ReplicaOf: primary,
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("one sync reads every instance of its own, and no replica", func(t *testing.T) {
		total, fin, pages := f.sync(t, "sync-1")
		if pages != 3 || total.Kept != 180 || fin.Deactivated != 0 {
			t.Fatalf("pages %d, %+v, %+v", pages, total, fin)
		}
		if _, ok := f.active(t)[connectapi.GeneratedUser(1005).ID]; !ok {
			t.Fatal("France's agents were not synced")
		}
	})

	t.Run("a page of an instance removed during the sync sends the sync back to the primary, so no instance goes unread", func(t *testing.T) {
		val, err := f.env.ExecuteActivity(f.acts.SyncAgentsPage, activities.SyncAgentsPageInput{TenantID: f.tenant, SyncID: "s-gone",
			InstanceARN: "arn:aws:connect:eu-west-1:111122223333:instance/gone"})
		if err != nil {
			t.Fatal(err)
		}
		var page activities.SyncAgentsPageResult
		if err := val.Get(&page); err != nil || page.NextInstanceARN != primary || page.Listed != 0 {
			t.Fatalf("page %+v, %v: want nothing read and the primary next", page, err)
		}
	})

	t.Run("an instance removed from the tenant takes its agents out at the next sync", func(t *testing.T) {
		if err := f.acts.Tenants.RemoveInstance(ctx, f.tenant, "arn:aws:connect:eu-west-3:111122223333:instance/"+franceID); err != nil {
			t.Fatal(err)
		}
		total, fin, _ := f.sync(t, "sync-2")
		if total.Kept != 150 || fin.Deactivated != 30 {
			t.Fatalf("%+v, %+v", total, fin)
		}
	})
}
