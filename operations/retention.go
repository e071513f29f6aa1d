// The retention schedule: each tenant with a retention period has a daily
// Temporal Schedule that erases its conversations older than that period.

package operations

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/workflows"
)

// RetentionID derives the schedule ID of a tenant's retention runs.
func RetentionID(tenantID string) string {
	return workflows.RetentionWorkflowID(tenantID)
}

// tenantRetentionOffset puts a tenant's retention run once a day, at 02:30
// UTC, outside most contact centres' busiest hours.
const tenantRetentionOffset = 2*time.Hour + 30*time.Minute

// EnsureRetention creates the tenant's daily retention schedule when it has
// a retention period, and deletes it when it has none. The period itself is
// read by each run, so changing it needs no schedule update.
func EnsureRetention(ctx context.Context, c client.Client, taskQueue string, t tenant.Tenant) (ScheduleOutcome, error) {
	h := c.ScheduleClient().GetHandle(ctx, RetentionID(t.ID))
	_, err := h.Describe(ctx)
	var notFound *serviceerror.NotFound
	exists := !errors.As(err, &notFound)
	if err != nil && exists {
		return "", fmt.Errorf("describe retention schedule of %s: %w", t.ID, err)
	}
	switch {
	case t.RetentionDays <= 0 && exists:
		if err := DeleteRetention(ctx, c, t.ID); err != nil {
			return "", err
		}
		return ScheduleDeleted, nil
	case t.RetentionDays <= 0 || exists:
		return ScheduleUnchanged, nil
	}
	return createDailySchedule(ctx, c, dailySchedule{
		ID: RetentionID(t.ID), TenantID: t.ID, TaskQueue: taskQueue, Offset: tenantRetentionOffset, CatchupWindow: time.Hour,
		Workflow: workflows.RetentionWorkflow, Input: workflows.RetentionInput{TenantID: t.ID, Kind: workflows.EraseByRetention},
		Note: "erases conversations older than the tenant's retention, daily",
	})
}

// dailySchedule is a tenant's once-a-day schedule of one workflow.
type dailySchedule struct {
	ID, TenantID, TaskQueue string
	// Offset is the time of day (UTC) it runs.
	Offset        time.Duration
	CatchupWindow time.Duration
	Workflow      any
	Input         any
	Note          string
}

// createDailySchedule creates the schedule where it is missing; an
// existing one is left as it is. Its runs carry the tenant's TenantId
// search attribute and never overlap.
func createDailySchedule(ctx context.Context, c client.Client, d dailySchedule) (ScheduleOutcome, error) {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   d.ID,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour, Offset: d.Offset}}},
		Action: &client.ScheduleWorkflowAction{
			ID: d.ID, Workflow: d.Workflow, Args: []any{d.Input}, TaskQueue: d.TaskQueue,
			TypedSearchAttributes: temporal.NewSearchAttributes(workflows.TenantIDKey.ValueSet(d.TenantID)),
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: d.CatchupWindow,
		Note:          d.Note,
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return ScheduleUnchanged, nil
	}
	if err != nil {
		return "", fmt.Errorf("create schedule %s: %w", d.ID, err)
	}
	return ScheduleCreated, nil
}

// ScheduleDeleted is EnsureRetention's outcome when the tenant's retention
// was removed.
const ScheduleDeleted ScheduleOutcome = "deleted"

// DeleteRetention removes the tenant's retention schedule; one already gone
// is not an error.
func DeleteRetention(ctx context.Context, c client.Client, tenantID string) error {
	return deleteSchedule(ctx, c, RetentionID(tenantID))
}

// RetentionRun is one retention run, or a tenant removal's erasure run.
type RetentionRun struct {
	WorkflowID string
	RunID      string
}

// RunRetention triggers the tenant's retention schedule now and returns the
// run it started, to follow with WaitRetention.
func RunRetention(ctx context.Context, c client.Client, taskQueue string, t tenant.Tenant) (RetentionRun, error) {
	if t.RetentionDays <= 0 {
		return RetentionRun{}, fmt.Errorf("%w: tenant %s has no retention set (tenants update --retention 90d)", ErrInvalid, t.ID)
	}
	if _, err := EnsureRetention(ctx, c, taskQueue, t); err != nil {
		return RetentionRun{}, err
	}
	started, err := triggerSchedule(ctx, c.ScheduleClient().GetHandle(ctx, RetentionID(t.ID)))
	if err != nil {
		return RetentionRun{}, fmt.Errorf("retention run of %s: %w", t.ID, err)
	}
	return RetentionRun{WorkflowID: started.WorkflowID, RunID: started.FirstExecutionRunID}, nil
}

// triggerSchedule triggers a schedule now and returns the run it started,
// told apart from the runs it had started before.
func triggerSchedule(ctx context.Context, h client.ScheduleHandle) (*client.ScheduleWorkflowExecution, error) {
	before, err := h.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe schedule %s: %w", h.GetID(), err)
	}
	seen := map[string]bool{}
	for _, a := range before.Info.RecentActions {
		if a.StartWorkflowResult != nil {
			seen[runKey(a.StartWorkflowResult)] = true
		}
	}
	for _, w := range before.Info.RunningWorkflows {
		seen[runKey(&w)] = true
	}
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE}); err != nil {
		return nil, fmt.Errorf("trigger schedule %s: %w", h.GetID(), err)
	}
	return awaitNewAction(ctx, h, seen)
}

// StartTenantRemoval starts, or joins, the run that erases every
// conversation of a tenant being removed, and its open conversation
// workflows.
func StartTenantRemoval(ctx context.Context, c client.Client, taskQueue, tenantID string) (RetentionRun, error) {
	id := workflows.TenantRemovalWorkflowID(tenantID)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(workflows.TenantIDKey.ValueSet(tenantID)),
	}, workflows.RetentionWorkflow, workflows.RetentionInput{TenantID: tenantID, Kind: workflows.EraseTenantRemoval})
	if err != nil {
		return RetentionRun{}, fmt.Errorf("start %s: %w", id, err)
	}
	return RetentionRun{WorkflowID: id, RunID: run.GetRunID()}, nil
}

// WaitRetention follows a retention run (through its continue-as-new) to
// its end, calling progress with what it has done every second or so.
func WaitRetention(ctx context.Context, c client.Client, r RetentionRun, progress func(workflows.RetentionProgress)) (workflows.RetentionResult, error) {
	return follow[workflows.RetentionProgress, workflows.RetentionResult](ctx, c, r.WorkflowID, r.RunID, progress)
}

// follow waits for a workflow (through its continue-as-new) to end and
// returns its result, calling progress with the answer of its progress
// query every second or so.
func follow[P, R any](ctx context.Context, c client.Client, workflowID, runID string, progress func(P)) (R, error) {
	done := make(chan struct{})
	defer close(done)
	if progress != nil {
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				v, err := c.QueryWorkflow(ctx, workflowID, "", workflows.ProgressQuery)
				var p P
				if err == nil && v.Get(&p) == nil {
					progress(p)
				}
			}
		}()
	}
	var res R
	if err := c.GetWorkflow(ctx, workflowID, runID).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("%s: %w", workflowID, err)
	}
	return res, nil
}
