package operations

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/workflows"
)

// ErrNotRunning is returned when cancelling a conversation whose workflow
// has already closed.
var ErrNotRunning = errors.New("not running")

// CancelResult names the run a cancel stopped.
type CancelResult struct {
	WorkflowID string
	RunID      string
}

// Cancel stops a running conversation gracefully: the workflow receives the
// reason, then a cancellation request; an in-flight copy stops, what it
// left is removed, and the conversation is marked cancelled with the reason
// and never enqueued. Wait reports when that is done. An erased contact is
// refused (ErrErased): its erasure has stopped or stops its run.
func (s *Service) Cancel(ctx context.Context, tenantID, contactID, reason string) (CancelResult, error) {
	if reason == "" {
		return CancelResult{}, fmt.Errorf("a cancel needs a reason")
	}
	call, err := s.Get(ctx, tenantID, contactID)
	if err != nil {
		return CancelResult{}, err
	}
	if err := refuseErased(call); err != nil {
		// Its erasure stops the run itself.
		return CancelResult{}, err
	}
	w := call.Workflow
	if w == nil || w.Status != "Running" {
		status := "gone from Temporal"
		if w != nil {
			status = w.Status
		}
		return CancelResult{}, fmt.Errorf("conversation %s/%s is %s (%s): %w", tenantID, contactID, call.State(), status, ErrNotRunning)
	}
	err = s.Temporal.SignalWorkflow(ctx, w.ID, w.RunID, workflows.CancelReasonSignal, workflows.CancelReason{Reason: reason})
	if err != nil {
		return CancelResult{}, fmt.Errorf("signal %s: %w", w.ID, err)
	}
	if err := s.Temporal.CancelWorkflow(ctx, w.ID, w.RunID); err != nil {
		return CancelResult{}, fmt.Errorf("cancel %s: %w", w.ID, err)
	}
	return CancelResult{WorkflowID: w.ID, RunID: w.RunID}, nil
}

// Wait blocks until the cancelled run has closed, with its clean-up done.
func (s *Service) Wait(ctx context.Context, r CancelResult) error {
	err := s.Temporal.GetWorkflow(ctx, r.WorkflowID, r.RunID).Get(ctx, nil)
	if err == nil || temporal.IsCanceledError(err) {
		return nil
	}
	var ce *temporal.CanceledError
	if errors.As(err, &ce) {
		return nil
	}
	return fmt.Errorf("wait for %s to close: %w", r.WorkflowID, err)
}
