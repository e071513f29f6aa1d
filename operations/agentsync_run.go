package operations

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/workflows"
)

// pollEvery is how often RunAgentSync looks for the run its trigger started.
const pollEvery = 250 * time.Millisecond

// AgentSyncRun is one agent sync started through the schedule.
type AgentSyncRun struct {
	WorkflowID string
	RunID      string
	Result     workflows.AgentSyncResult
}

// RunAgentSync triggers the tenant's schedule now and waits for that run's
// result. Going through the schedule, rather than starting the workflow
// directly, keeps every sync of a tenant under one overlap policy: a run
// already in progress is followed by this one, never overlapped, because
// two overlapping syncs would each deactivate the agents only the other saw.
func RunAgentSync(ctx context.Context, c client.Client, taskQueue string, t tenant.Tenant) (AgentSyncRun, error) {
	outcome, err := EnsureAgentSync(ctx, c, taskQueue, t)
	if err != nil {
		return AgentSyncRun{}, err
	}
	h := c.ScheduleClient().GetHandle(ctx, AgentSyncID(t.ID))
	var started *client.ScheduleWorkflowExecution
	if outcome != ScheduleCreated || t.SyncDisabled {
		started, err = triggerSchedule(ctx, h)
	} else {
		// A schedule created just now has triggered its first run
		// already: that run is the one to wait for.
		started, err = awaitNewAction(ctx, h, map[string]bool{})
	}
	if err != nil {
		return AgentSyncRun{}, fmt.Errorf("agent sync of %s: %w", t.ID, err)
	}
	run := AgentSyncRun{WorkflowID: started.WorkflowID, RunID: started.FirstExecutionRunID}
	// Get follows the run through continue-as-new to the sync's end.
	if err := c.GetWorkflow(ctx, run.WorkflowID, run.RunID).Get(ctx, &run.Result); err != nil {
		return run, fmt.Errorf("agent sync %s: %w", run.WorkflowID, err)
	}
	return run, nil
}

// awaitNewAction polls the schedule until it has started a workflow that is
// not in seen.
func awaitNewAction(ctx context.Context, h client.ScheduleHandle, seen map[string]bool) (*client.ScheduleWorkflowExecution, error) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		desc, err := h.Describe(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe schedule: %w", err)
		}
		for _, a := range desc.Info.RecentActions {
			if w := a.StartWorkflowResult; w != nil && !seen[runKey(w)] {
				return w, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the triggered run to start: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// runKey identifies one started run. The workflow ID alone does not: the
// schedule derives it from the start time in whole seconds, so two runs
// started within a second share it.
func runKey(w *client.ScheduleWorkflowExecution) string {
	return w.WorkflowID + "/" + w.FirstExecutionRunID
}
