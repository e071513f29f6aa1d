// The agent-sync schedule: each tenant's Temporal Schedule kept in step
// with the tenant's settings. The agent sync runs every SyncInterval, paused
// while the tenant's sync is disabled, and the schedule goes when the
// tenant goes.

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

// AgentSyncID derives the schedule ID of a tenant's agent sync. Workflows
// the schedule starts take it as their ID prefix.
func AgentSyncID(tenantID string) string {
	return workflows.AgentSyncWorkflowID(tenantID)
}

// ScheduleOutcome says what EnsureAgentSync did.
type ScheduleOutcome string

// What EnsureAgentSync can do to a schedule.
const (
	ScheduleCreated   ScheduleOutcome = "created"
	ScheduleUpdated   ScheduleOutcome = "updated"
	ScheduleUnchanged ScheduleOutcome = "unchanged"
)

// catchupWindow bounds how late a missed run may still start after an
// outage: one catch-up run is useful, a backlog of them is not.
const catchupWindow = 5 * time.Minute

// EnsureAgentSync creates the tenant's agent-sync schedule and triggers its
// first run, or brings an existing schedule in line with the tenant's
// settings. It is safe to call on
// every save: one schedule per tenant, whatever the number of calls.
func EnsureAgentSync(ctx context.Context, c client.Client, taskQueue string, t tenant.Tenant) (ScheduleOutcome, error) {
	want := desired(taskQueue, t)
	desc, err := DescribeAgentSync(ctx, c, t.ID)
	if err != nil {
		return "", err
	}
	if desc == nil {
		h, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:            AgentSyncID(t.ID),
			Spec:          *want.Spec,
			Action:        want.Action,
			Overlap:       want.Policy.Overlap,
			CatchupWindow: want.Policy.CatchupWindow,
			Paused:        want.State.Paused,
			Note:          want.State.Note,
		})
		if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			// Another save created it between our look and our create.
			return EnsureAgentSync(ctx, c, taskQueue, t)
		}
		if err != nil {
			return "", fmt.Errorf("create agent-sync schedule of %s: %w", t.ID, err)
		}
		if !t.SyncDisabled {
			// A new tenant's agents are wanted now, not one interval later.
			if err := h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP}); err != nil {
				return "", fmt.Errorf("trigger the first agent sync of %s: %w", t.ID, err)
			}
		}
		return ScheduleCreated, nil
	}
	if st := desc.Schedule.State; st != nil && st.Paused && !t.SyncDisabled && st.Note != disabledNote {
		// An operator paused it (in the UI or the CLI): saving the tenant
		// keeps that pause and its note; only our own pause is lifted.
		want.State = &client.ScheduleState{Paused: true, Note: st.Note}
	}
	if matches(desc.Schedule, want, taskQueue) {
		return ScheduleUnchanged, nil
	}
	err = c.ScheduleClient().GetHandle(ctx, AgentSyncID(t.ID)).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			return &client.ScheduleUpdate{Schedule: &want}, nil
		},
	})
	if err != nil {
		return "", fmt.Errorf("update agent-sync schedule of %s: %w", t.ID, err)
	}
	return ScheduleUpdated, nil
}

// DeleteAgentSync removes the tenant's agent-sync schedule; a schedule that
// is already gone is not an error. Runs already started finish on their own.
func DeleteAgentSync(ctx context.Context, c client.Client, tenantID string) error {
	return deleteSchedule(ctx, c, AgentSyncID(tenantID))
}

// deleteSchedule deletes a schedule; one already gone is not an error.
func deleteSchedule(ctx context.Context, c client.Client, id string) error {
	err := c.ScheduleClient().GetHandle(ctx, id).Delete(ctx)
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("delete schedule %s: %w", id, err)
	}
	return nil
}

// disabledNote marks a schedule paused because the tenant's sync is
// disabled, as opposed to paused by an operator.
const disabledNote = "paused: agent sync is disabled in the tenant's settings"

// desired is the schedule the tenant's settings call for.
func desired(taskQueue string, t tenant.Tenant) client.Schedule {
	interval := t.WithDefaults().SyncInterval
	note := "agent sync every " + interval.String()
	if t.SyncDisabled {
		note = disabledNote
	}
	return client.Schedule{
		Action: &client.ScheduleWorkflowAction{
			ID:                    workflows.AgentSyncWorkflowID(t.ID),
			Workflow:              workflows.AgentSyncWorkflow,
			Args:                  []any{workflows.AgentSyncInput{TenantID: t.ID}},
			TaskQueue:             taskQueue,
			TypedSearchAttributes: temporal.NewSearchAttributes(workflows.TenantIDKey.ValueSet(t.ID)),
		},
		Spec: &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}},
		Policy: &client.SchedulePolicies{
			Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			CatchupWindow: catchupWindow,
		},
		State: &client.ScheduleState{Paused: t.SyncDisabled, Note: note},
	}
}

// matches reports whether the described schedule already is the desired
// one, in everything the tenant's settings decide.
func matches(have client.Schedule, want client.Schedule, taskQueue string) bool {
	if have.Spec == nil || len(have.Spec.Intervals) != 1 || have.Spec.Intervals[0].Every != want.Spec.Intervals[0].Every {
		return false
	}
	if have.State == nil || have.State.Paused != want.State.Paused {
		return false
	}
	action, ok := have.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.TaskQueue != taskQueue || action.ID != want.Action.(*client.ScheduleWorkflowAction).ID {
		return false
	}
	return have.Policy != nil && have.Policy.Overlap == want.Policy.Overlap
}

// DescribeAgentSync reads the tenant's agent-sync schedule; nil, nil when
// the tenant has none.
func DescribeAgentSync(ctx context.Context, c client.Client, tenantID string) (*client.ScheduleDescription, error) {
	d, err := c.ScheduleClient().GetHandle(ctx, AgentSyncID(tenantID)).Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe agent-sync schedule of %s: %w", tenantID, err)
	}
	return d, nil
}
