package operations_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
)

const instanceID = "33333333-4444-5555-6666-777777777777"

// fixture is a tenant whose Connect instance is the stand-in, synced by a
// real worker on a task queue of the test's own.
type fixture struct {
	temporal  client.Client
	taskQueue string
	tenants   *store.Tenants
	agents    *store.Agents
	dir       *connectapi.Directory
	server    *connectapi.Server
	tenant    tenant.Tenant
}

// quota is the stand-in's Connect API quota and the sync's own limit
// below it, in requests per second and burst.
type quota struct {
	connectRate  float64
	connectBurst int
	clientRate   float64
	clientBurst  int
}

// unlimited lets a test's syncs run as fast as they can.
var unlimited = quota{clientRate: 100000, clientBurst: 1000}

func newFixture(t *testing.T, users int, q quota) *fixture {
	t.Helper()
	pool, _ := testenv.Database(t)
	f := &fixture{temporal: testenv.Temporal(t), tenants: store.NewTenants(pool), agents: store.NewAgents(pool)}
	f.dir = connectapi.NewDirectory(instanceID, users)
	f.server = connectapi.NewServer(f.dir, q.connectRate, q.connectBurst)
	hs := httptest.NewServer(f.server.Handler())
	t.Cleanup(hs.Close)

	// Schedules live on the shared dev server, so the tenant's ID is the
	// test's own, and its schedule goes when the test ends.
	f.tenant = tenant.Tenant{
		ID: "sched-" + testenv.Suffix(), Name: "Scheduled", ConnectEndpointURL: hs.URL,
		InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/" + instanceID,
	}
	if _, err := f.tenants.Create(t.Context(), f.tenant, accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := operations.DeleteAgentSync(context.Background(), f.temporal, f.tenant.ID); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	f.tenant, _ = f.tenants.Get(t.Context(), f.tenant.ID)

	acts := &activities.Activities{
		Tenants: f.tenants, Agents: f.agents,
		AWS: &awsx.Clients{StandInAccessKey: connectapi.DefaultAccessKey, StandInSecretKey: connectapi.DefaultSecretKey, ConnectRate: q.clientRate, ConnectBurst: q.clientBurst},
	}
	f.taskQueue = testenv.Worker(t, f.temporal, func(r worker.Registry) {
		r.RegisterWorkflow(workflows.AgentSyncWorkflow)
		r.RegisterActivity(acts)
	})
	return f
}

func (f *fixture) describe(t *testing.T) *client.ScheduleDescription {
	t.Helper()
	d, err := operations.DescribeAgentSync(t.Context(), f.temporal, f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) ensure(t *testing.T) operations.ScheduleOutcome {
	t.Helper()
	out, err := operations.EnsureAgentSync(t.Context(), f.temporal, f.taskQueue, f.tenant)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// schedulesWithID counts the namespace's schedules with the tenant's
// schedule ID, as the Temporal UI lists them.
func (f *fixture) schedulesWithID(t *testing.T) int {
	t.Helper()
	it, err := f.temporal.ScheduleClient().List(t.Context(), client.ScheduleListOptions{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == operations.AgentSyncID(f.tenant.ID) {
			n++
		}
	}
	return n
}

func TestAgentSyncSchedule(t *testing.T) {
	f := newFixture(t, 40, unlimited)

	t.Run("the first save creates the schedule and starts the first sync at once", func(t *testing.T) {
		if got := f.ensure(t); got != operations.ScheduleCreated {
			t.Fatalf("outcome = %s, want created", got)
		}
		d := f.describe(t)
		if d == nil || d.Schedule.Spec.Intervals[0].Every != tenant.DefaultSyncInterval || d.Schedule.State.Paused {
			t.Fatalf("schedule = %+v", d)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			list, err := f.agents.List(t.Context(), f.tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) == 40 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d agents a minute after the tenant was saved, want 40", len(list))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("saving the tenant again registers no second schedule and starts no extra sync", func(t *testing.T) {
		for range 3 {
			if got := f.ensure(t); got != operations.ScheduleUnchanged {
				t.Fatalf("outcome = %s, want unchanged", got)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		n := f.schedulesWithID(t)
		for n == 0 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond) // visibility catches up
			n = f.schedulesWithID(t)
		}
		if n != 1 {
			t.Fatalf("%d schedules listed with the tenant's ID, want 1", n)
		}
		if runs := f.describe(t).Info.NumActions; runs != 1 {
			t.Fatalf("the schedule started %d syncs, want only the first", runs)
		}
	})

	t.Run("a changed interval updates the schedule in place", func(t *testing.T) {
		f.tenant.SyncInterval = 5 * time.Minute
		if got := f.ensure(t); got != operations.ScheduleUpdated {
			t.Fatalf("outcome = %s, want updated", got)
		}
		if every := f.describe(t).Schedule.Spec.Intervals[0].Every; every != 5*time.Minute {
			t.Fatalf("interval = %s, want 5m", every)
		}
	})

	t.Run("disabling the sync pauses the schedule and enabling it resumes", func(t *testing.T) {
		f.tenant.SyncDisabled = true
		if got := f.ensure(t); got != operations.ScheduleUpdated {
			t.Fatalf("outcome = %s, want updated", got)
		}
		if st := f.describe(t).Schedule.State; !st.Paused {
			t.Fatalf("state = %+v, want paused", st)
		}
		f.tenant.SyncDisabled = false
		f.ensure(t)
		if st := f.describe(t).Schedule.State; st.Paused {
			t.Fatalf("state = %+v, want running", st)
		}
	})

	t.Run("an operator's pause survives saving the tenant", func(t *testing.T) {
		h := f.temporal.ScheduleClient().GetHandle(t.Context(), operations.AgentSyncID(f.tenant.ID))
		if err := h.Pause(t.Context(), client.SchedulePauseOptions{Note: "Connect migration in progress"}); err != nil {
			t.Fatal(err)
		}
		if got := f.ensure(t); got != operations.ScheduleUnchanged {
			t.Fatalf("outcome = %s, want unchanged", got)
		}
		if st := f.describe(t).Schedule.State; !st.Paused || st.Note != "Connect migration in progress" {
			t.Fatalf("state = %+v, want the operator's pause", st)
		}
		if err := h.Unpause(t.Context(), client.ScheduleUnpauseOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("run now waits for the sync's result; with nothing changed it describes no one", func(t *testing.T) {
		describes := f.server.DescribeCalls.Load()
		run, err := operations.RunAgentSync(t.Context(), f.temporal, f.taskQueue, f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if run.Result.Listed != 40 || run.Result.Described != 0 || run.Result.Kept != 40 {
			t.Fatalf("result = %+v", run.Result)
		}
		if got := f.server.DescribeCalls.Load() - describes; got != 0 {
			t.Fatalf("%d DescribeUser calls, want 0", got)
		}
	})

	t.Run("a user removed from Connect becomes an inactive agent on the next run", func(t *testing.T) {
		gone := connectapi.GeneratedUser(7)
		f.dir.Remove(gone.ID)
		run, err := operations.RunAgentSync(t.Context(), f.temporal, f.taskQueue, f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if run.Result.Deactivated != 1 {
			t.Fatalf("result = %+v, want 1 deactivated", run.Result)
		}
		testenv.SaveHistory(t, f.temporal, run.WorkflowID, run.RunID, "agent_sync_deactivates.json")
		a, err := f.agents.Get(t.Context(), f.tenant.ID, gone.ID)
		if err != nil || a.Active {
			t.Fatalf("agent = %+v, %v; want kept and inactive", a, err)
		}
	})

	t.Run("removal deletes the schedule, and deleting it again is not an error", func(t *testing.T) {
		for range 2 {
			if err := operations.DeleteAgentSync(t.Context(), f.temporal, f.tenant.ID); err != nil {
				t.Fatal(err)
			}
		}
		if d := f.describe(t); d != nil {
			t.Fatalf("schedule still there: %+v", d.Schedule)
		}
	})
}
