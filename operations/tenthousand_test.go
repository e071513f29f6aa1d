package operations_test

import (
	"context"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/operations"
)

// The scale of Connect's API quota in TestTenThousandUsersWithinQuota: time
// runs this many times faster than in production, so the quota's rate and
// the sync's limit grow by it while bursts, being counts, stay.
const timeScale = 300

func TestTenThousandUsersWithinQuota(t *testing.T) {
	// Connect's default quota is 2 requests/s with a burst of 5; the sync's
	// defaults (CONNECT_API_RATE, CONNECT_API_BURST) stay below it.
	f := newFixture(t, 10000, quota{
		connectRate: 2 * timeScale, connectBurst: 5,
		clientRate: 1.5 * timeScale, clientBurst: 3,
	})

	t.Run("a first sync searches every user in 100 calls, without one 429, in a bounded history", func(t *testing.T) {
		// A sync over the quota drags on through 429 backoffs: fail it soon.
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		run, err := operations.RunAgentSync(ctx, f.temporal, f.taskQueue, f.tenant)
		if err != nil {
			t.Fatalf("%v (429 answers so far: %d)", err, f.server.Throttled.Load())
		}
		if r := run.Result; r.Listed != 10000 || r.Pages != 100 || r.Described != 0 || r.Kept != 10000 {
			t.Fatalf("result = %+v", r)
		}
		if s, d := f.server.SearchUsersCalls.Load(), f.server.DescribeCalls.Load(); s != 100 || d != 0 {
			t.Fatalf("%d SearchUsers and %d DescribeUser calls, want 100 and 0", s, d)
		}
		if n := f.server.Throttled.Load(); n != 0 {
			t.Fatalf("the stand-in answered 429 %d times: the sync breached the quota", n)
		}
		agents, err := f.agents.List(t.Context(), f.tenant.ID)
		if err != nil || len(agents) != 10000 {
			t.Fatalf("%d agents stored, %v", len(agents), err)
		}
		// A run reads 20 pages and continues as new: the history grows
		// with pages, never with users, and never past one run's pages.
		if events := historyLength(t, f, run); events > 140 {
			t.Fatalf("the sync's last run has %d events", events)
		}
		testenv.SaveHistory(t, f.temporal, run.WorkflowID, run.RunID, "agent_sync_search_pages.json")
	})

	t.Run("where the role may not search, a first listing describes each user once", func(t *testing.T) {
		f.server.WithSearchUsers(false)
		run, err := operations.RunAgentSync(t.Context(), f.temporal, f.taskQueue, f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if r := run.Result; r.Listed != 10000 || r.Pages != 10 || r.Described != 10000 || r.Kept != 10000 {
			t.Fatalf("result = %+v", r)
		}
		if n := f.server.Throttled.Load(); n != 0 {
			t.Fatalf("the stand-in answered 429 %d times", n)
		}
	})

	t.Run("and a listing with nothing changed costs the ListUsers pages only", func(t *testing.T) {
		lists, describes := f.server.ListCalls.Load(), f.server.DescribeCalls.Load()
		run, err := operations.RunAgentSync(t.Context(), f.temporal, f.taskQueue, f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if run.Result.Described != 0 || run.Result.Kept != 10000 {
			t.Fatalf("result = %+v", run.Result)
		}
		if l, d := f.server.ListCalls.Load()-lists, f.server.DescribeCalls.Load()-describes; l != 10 || d != 0 {
			t.Fatalf("%d ListUsers and %d DescribeUser calls, want 10 and 0", l, d)
		}
	})
}

func historyLength(t *testing.T, f *fixture, run operations.AgentSyncRun) int {
	t.Helper()
	it := f.temporal.GetWorkflowHistory(t.Context(), run.WorkflowID, run.RunID, false, 0)
	n := 0
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}
