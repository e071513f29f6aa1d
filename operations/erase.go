package operations

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/workflows"
)

// EraseRun is one contact's erasure under way.
type EraseRun struct {
	WorkflowID string
	RunID      string
	// Held is false when connect-ingest held nothing of the contact yet:
	// only its tombstone is written, and its CTRs are refused when they
	// come.
	Held bool
}

// Erase begins the erasure of a contact, in any state: its tombstone is
// written with the reason and who asked, from which moment its CTRs are
// refused, and its EraseWorkflow starts (see workflows.EraseWorkflow). It
// is idempotent: an erasure begun before keeps its tombstone, and an
// erasure under way is joined, not started twice. A contact that has not
// arrived yet gets its tombstone all the same (EraseRun.Held is false), so
// that its CTRs are refused when they come.
func (s *Service) Erase(ctx context.Context, tenantID, contactID, reason, requestedBy string) (EraseRun, error) {
	if strings.TrimSpace(reason) == "" {
		return EraseRun{}, fmt.Errorf("%w: an erasure needs a reason", ErrInvalid)
	}
	if strings.TrimSpace(requestedBy) == "" {
		return EraseRun{}, fmt.Errorf("%w: an erasure needs who asked", ErrInvalid)
	}
	call, err := s.Get(ctx, tenantID, contactID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return EraseRun{}, err
	}
	if _, err := s.Erasures.Begin(ctx, store.Erasure{TenantID: tenantID, ContactID: contactID, Reason: reason, RequestedBy: requestedBy}); err != nil {
		return EraseRun{}, err
	}
	run, err := s.startErase(ctx, tenantID, contactID)
	run.Held = call.Conversation != nil || call.Workflow != nil
	return run, err
}

// startErase starts, or joins, the contact's EraseWorkflow.
func (s *Service) startErase(ctx context.Context, tenantID, contactID string) (EraseRun, error) {
	id := workflows.EraseWorkflowID(tenantID, contactID)
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: s.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(workflows.TenantIDKey.ValueSet(tenantID)),
	}, workflows.EraseWorkflow, workflows.EraseInput{TenantID: tenantID, ContactID: contactID, Kind: workflows.EraseOnRequest})
	if err != nil {
		return EraseRun{}, fmt.Errorf("start erasure %s: %w", id, err)
	}
	return EraseRun{WorkflowID: id, RunID: run.GetRunID()}, nil
}

// WaitErased blocks until the erasure has finished, and returns what it
// removed.
func (s *Service) WaitErased(ctx context.Context, r EraseRun) (workflows.EraseResult, error) {
	var res workflows.EraseResult
	if err := s.Temporal.GetWorkflow(ctx, r.WorkflowID, r.RunID).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("erasure %s: %w", r.WorkflowID, err)
	}
	return res, nil
}
