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

	t.Run("a first sync brings in every user without one 429, in a bounded history", func(t *testing.T) {
		// A sync over the quota drags on through 429 backoffs: fail it soon.
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		run, err := operations.RunAgentSync(ctx, f.temporal, f.taskQueue, f.tenant)
		if err != nil {
			t.Fatalf("%v (429 answers so far: %d)", err, f.server.Throttled.Load())
		}
		if r := run.Result; r.Listed != 10000 || r.Pages != 10 || r.Described != 10000 || r.Kept != 10000 {
			t.Fatalf("result = %+v", r)
		}
		if n := f.server.Throttled.Load(); n != 0 {
			t.Fatalf("the stand-in answered 429 %d times: the sync breached the quota", n)
		}
		agents, err := f.agents.List(t.Context(), f.tenant.ID)
		if err != nil || len(agents) != 10000 {
			t.Fatalf("%d agents stored, %v", len(agents), err)
		}
		// Ten pages of a thousand users each cost a handful of events each:
		// the history grows with pages, never with users.
		if events := historyLength(t, f, run); events > 80 {
			t.Fatalf("the sync's history has %d events", events)
		}
		testenv.SaveHistory(t, f.temporal, run.WorkflowID, run.RunID, "agent_sync_ten_pages.json")
	})

	t.Run("a second sync with nothing changed costs the ListUsers pages only", func(t *testing.T) {
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
