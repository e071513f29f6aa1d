package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/connectingest/connect-ingest/internal/store"
)

// RetentionPlanInput names the tenant whose retention run starts.
type RetentionPlanInput struct {
	TenantID string
}

// RetentionPlanResult is the tenant's retention as it stands now.
type RetentionPlanResult struct {
	// Days is zero when the tenant keeps its conversations.
	Days int
	// Cutoff is now minus Days: calls that ended before it are erased.
	Cutoff time.Time
}

// RetentionPlan reads the tenant's retention setting when its run starts,
// so that a changed setting applies from the next run without touching
// the schedule.
func (a *Activities) RetentionPlan(ctx context.Context, in RetentionPlanInput) (RetentionPlanResult, error) {
	t, err := a.Tenants.Get(ctx, in.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return RetentionPlanResult{}, permanent(ErrTypeTenantNotFound, err)
	}
	if err != nil {
		return RetentionPlanResult{}, err
	}
	if t.RetentionDays <= 0 {
		return RetentionPlanResult{}, nil
	}
	return RetentionPlanResult{Days: t.RetentionDays,
		Cutoff: time.Now().UTC().Add(-time.Duration(t.RetentionDays) * 24 * time.Hour)}, nil
}

// BeginErasuresInput selects the next page of a tenant's conversations to
// erase: those whose call ended before Cutoff, after the position After.
type BeginErasuresInput struct {
	TenantID string
	Cutoff   time.Time
	After    store.Ended
	Limit    int
	// Reason and RequestedBy go on each tombstone.
	Reason      string
	RequestedBy string
}

// BeginErasuresResult lists the contacts whose erasure has begun, oldest
// first; empty when the run is through.
type BeginErasuresResult struct {
	Contacts []store.Ended
}

// BeginErasures finds the next page of conversations to erase and writes
// their tombstones, from which point their CTRs are refused. It is
// idempotent: a tombstone written before keeps its first reason.
func (a *Activities) BeginErasures(ctx context.Context, in BeginErasuresInput) (BeginErasuresResult, error) {
	page, err := a.Erasures.EndedBefore(ctx, in.TenantID, in.Cutoff, in.After, in.Limit)
	if err != nil {
		return BeginErasuresResult{}, err
	}
	for _, e := range page {
		_, err := a.Erasures.Begin(ctx, store.Erasure{TenantID: in.TenantID, ContactID: e.ContactID, Reason: in.Reason, RequestedBy: in.RequestedBy})
		if err != nil {
			return BeginErasuresResult{}, err
		}
	}
	return BeginErasuresResult{Contacts: page}, nil
}

// RunningConversationsInput selects a tenant's open conversation workflows:
// those with the tenant's TenantId search attribute whose workflow ID
// starts with IDPrefix (the workflows own the ID's form).
type RunningConversationsInput struct {
	TenantID string
	IDPrefix string
	Limit    int
	// Reason and RequestedBy go on each tombstone.
	Reason      string
	RequestedBy string
}

// RunningConversationsResult lists the contacts of the open workflows,
// whose erasure has begun.
type RunningConversationsResult struct {
	ContactIDs []string
}

// RunningConversations finds a tenant's conversation workflows that are
// still open, whether or not they stored a row yet (a run waiting on a
// CTR it cannot read has none), and begins their erasure.
func (a *Activities) RunningConversations(ctx context.Context, in RunningConversationsInput) (RunningConversationsResult, error) {
	query := fmt.Sprintf("TenantId = %q AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH %q", in.TenantID, in.IDPrefix)
	resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: a.Namespace, Query: query, PageSize: int32(in.Limit),
	})
	if err != nil {
		return RunningConversationsResult{}, fmt.Errorf("list %s's open conversations: %w", in.TenantID, err)
	}
	var res RunningConversationsResult
	for _, e := range resp.GetExecutions() {
		contact, ok := strings.CutPrefix(e.GetExecution().GetWorkflowId(), in.IDPrefix)
		if !ok || contact == "" {
			continue
		}
		_, err := a.Erasures.Begin(ctx, store.Erasure{TenantID: in.TenantID, ContactID: contact, Reason: in.Reason, RequestedBy: in.RequestedBy})
		if err != nil {
			return RunningConversationsResult{}, err
		}
		res.ContactIDs = append(res.ContactIDs, contact)
	}
	return res, nil
}
