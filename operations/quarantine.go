// The quarantine-retention schedule: one per deployment (task queue),
// deleting quarantined records past QUARANTINE_RETENTION every hour.

package operations

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/workflows"
)

// retentionEvery is how often the quarantine clean-up runs.
const retentionEvery = time.Hour

// EnsureQuarantineRetention creates the quarantine-retention schedule, or
// brings it in line with the retention period and task queue. Safe to call
// on every start.
func EnsureQuarantineRetention(ctx context.Context, c client.Client, taskQueue string, retention time.Duration) (ScheduleOutcome, error) {
	id := workflows.QuarantineRetentionID(taskQueue)
	action := &client.ScheduleWorkflowAction{
		ID:        id,
		Workflow:  workflows.QuarantineRetentionWorkflow,
		Args:      []any{workflows.QuarantineRetentionInput{Retention: retention}},
		TaskQueue: taskQueue,
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: retentionEvery}}}
	h := c.ScheduleClient().GetHandle(ctx, id)
	desc, err := h.Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID: id, Spec: spec, Action: action,
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: catchupWindow,
			Note: "deletes quarantined records older than " + retention.String(),
		})
		if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return EnsureQuarantineRetention(ctx, c, taskQueue, retention)
		}
		if err != nil {
			return "", fmt.Errorf("create the quarantine-retention schedule: %w", err)
		}
		return ScheduleCreated, nil
	}
	if err != nil {
		return "", fmt.Errorf("describe the quarantine-retention schedule: %w", err)
	}
	if retentionMatches(desc.Schedule, taskQueue, retention) {
		return ScheduleUnchanged, nil
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Action, s.Spec = action, &spec
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return "", fmt.Errorf("update the quarantine-retention schedule: %w", err)
	}
	return ScheduleUpdated, nil
}

// retentionMatches reports whether the described schedule runs hourly on
// taskQueue with this retention.
func retentionMatches(have client.Schedule, taskQueue string, retention time.Duration) bool {
	if have.Spec == nil || len(have.Spec.Intervals) != 1 || have.Spec.Intervals[0].Every != retentionEvery {
		return false
	}
	action, ok := have.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.TaskQueue != taskQueue || len(action.Args) != 1 {
		return false
	}
	// A described schedule's arguments come back encoded.
	var in workflows.QuarantineRetentionInput
	p, ok := action.Args[0].(*commonpb.Payload)
	if !ok || converter.GetDefaultDataConverter().FromPayload(p, &in) != nil {
		return false
	}
	return in.Retention == retention
}
