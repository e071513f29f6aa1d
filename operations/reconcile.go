// The reconciliation: each tenant has a nightly Temporal Schedule that
// compares the contacts Amazon Connect reports with what connect-ingest
// holds and recovers the missing; a backfill runs the same over a range.

package operations

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/workflows"
)

// ReconcileID derives the schedule ID of a tenant's nightly reconciliation.
func ReconcileID(tenantID string) string {
	return workflows.ReconcileScheduleID(tenantID)
}

// reconcileOffset runs a tenant's reconciliation once a day at 01:15 UTC,
// after the day's calls and before the retention run.
const reconcileOffset = time.Hour + 15*time.Minute

// maxBackfill bounds a backfill's range: Connect keeps contacts for two
// years, and SearchContacts pages through any range.
const maxBackfill = 2 * 366 * 24 * time.Hour

// EnsureReconcile creates the tenant's nightly reconciliation schedule
// where it is missing. The window is read by each run from the worker's
// settings, so the schedule needs no update.
func EnsureReconcile(ctx context.Context, c client.Client, taskQueue string, t tenant.Tenant) (ScheduleOutcome, error) {
	return createDailySchedule(ctx, c, dailySchedule{
		ID: ReconcileID(t.ID), TenantID: t.ID, TaskQueue: taskQueue, Offset: reconcileOffset, CatchupWindow: 6 * time.Hour,
		Workflow: workflows.ReconcileWorkflow, Input: workflows.ReconcileInput{TenantID: t.ID, Kind: workflows.ReconcileNightly},
		Note: "recovers the contacts Amazon Connect reports whose CTRs never arrived, nightly",
	})
}

// DeleteReconcile removes the tenant's reconciliation schedule; one already
// gone is not an error.
func DeleteReconcile(ctx context.Context, c client.Client, tenantID string) error {
	return deleteSchedule(ctx, c, ReconcileID(tenantID))
}

// ReconcileRun is one reconciliation or backfill run.
type ReconcileRun struct {
	WorkflowID string
	RunID      string
}

// RunReconcile triggers the tenant's nightly reconciliation now, over the
// usual window, and returns the run to follow with WaitReconcile.
func RunReconcile(ctx context.Context, c client.Client, taskQueue string, t tenant.Tenant) (ReconcileRun, error) {
	if _, err := EnsureReconcile(ctx, c, taskQueue, t); err != nil {
		return ReconcileRun{}, err
	}
	started, err := triggerSchedule(ctx, c.ScheduleClient().GetHandle(ctx, ReconcileID(t.ID)))
	if err != nil {
		return ReconcileRun{}, fmt.Errorf("reconciliation of %s: %w", t.ID, err)
	}
	return ReconcileRun{WorkflowID: started.WorkflowID, RunID: started.FirstExecutionRunID}, nil
}

// StartBackfill starts the recovery of a tenant's contacts that ended
// between from and to, or joins the same backfill under way.
func StartBackfill(ctx context.Context, c client.Client, taskQueue, tenantID string, from, to time.Time, dryRun bool) (ReconcileRun, error) {
	switch {
	case from.IsZero() || to.IsZero() || !from.Before(to):
		return ReconcileRun{}, fmt.Errorf("%w: a backfill needs --from before --to", ErrInvalid)
	case to.Sub(from) > maxBackfill:
		return ReconcileRun{}, fmt.Errorf("%w: a backfill covers at most two years (Connect keeps contacts that long)", ErrInvalid)
	}
	id := workflows.BackfillWorkflowID(tenantID, from, to, dryRun)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(workflows.TenantIDKey.ValueSet(tenantID)),
	}, workflows.ReconcileWorkflow, workflows.ReconcileInput{TenantID: tenantID, Kind: workflows.ReconcileBackfill,
		From: from.UTC(), To: to.UTC(), DryRun: dryRun})
	if err != nil {
		return ReconcileRun{}, fmt.Errorf("start %s: %w", id, err)
	}
	return ReconcileRun{WorkflowID: id, RunID: run.GetRunID()}, nil
}

// WaitReconcile follows a reconciliation run (through its continue-as-new)
// to its end, calling progress with its counts every second or so.
func WaitReconcile(ctx context.Context, c client.Client, r ReconcileRun, progress func(store.ReconcileCounts)) (workflows.ReconcileResult, error) {
	return follow[store.ReconcileCounts, workflows.ReconcileResult](ctx, c, r.WorkflowID, r.RunID, progress)
}
