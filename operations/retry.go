package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/workflows"
)

// ErrNothingToRetry is returned for a conversation that ended well: enqueued
// for analysis, or without audio to analyse.
var ErrNothingToRetry = errors.New("nothing to retry")

// RetryResult says what a retry did.
type RetryResult struct {
	// Action is "woken" (a running workflow looks again now) or
	// "restarted" (a closed one runs again from what is done).
	Action string
	// ActivitiesReset counts the backing-off activities retried now.
	ActivitiesReset int
	RunID           string
}

// Retry makes a conversation try again now. An erased contact is refused
// (ErrErased). A running workflow is woken
// from a wait for its recording, and its activities waiting to retry are
// retried at once with their attempts reset. A failed, timed-out,
// terminated or cancelled run, or one that ended recording_missing or
// rejected, runs again with the newest CTR version: copied objects and
// stored rows are reused and nothing is enqueued twice.
func (s *Service) Retry(ctx context.Context, tenantID, contactID string) (RetryResult, error) {
	call, err := s.Get(ctx, tenantID, contactID)
	if err != nil {
		return RetryResult{}, err
	}
	if err := refuseErased(call); err != nil {
		return RetryResult{}, err
	}
	w := call.Workflow
	if w != nil && w.Status == "Running" {
		return s.wake(ctx, w)
	}
	if st := call.State(); w != nil && w.Status == "Completed" && (st == conversation.Enqueued || st == conversation.NoRecording) {
		return RetryResult{}, fmt.Errorf("conversation %s/%s is %s: %w", tenantID, contactID, st, ErrNothingToRetry)
	}
	version, err := s.latestVersion(ctx, call)
	if err != nil {
		return RetryResult{}, err
	}
	run, err := workflows.Deliver(ctx, s.Temporal, workflows.Delivery{
		TenantID: tenantID, ContactID: contactID, Version: version, TaskQueue: s.TaskQueue, WaitWindow: s.WaitWindow,
		InlineCopyMaxBytes: s.InlineCopyMaxBytes,
	})
	if err != nil {
		return RetryResult{}, fmt.Errorf("restart conversation %s/%s: %w", tenantID, contactID, err)
	}
	return RetryResult{Action: "restarted", RunID: run.GetRunID()}, nil
}

// wake signals a running conversation to look for its recording now and
// resets its activities that wait between attempts.
func (s *Service) wake(ctx context.Context, w *Workflow) (RetryResult, error) {
	if err := s.Temporal.SignalWorkflow(ctx, w.ID, "", workflows.RetrySignal, nil); err != nil {
		return RetryResult{}, fmt.Errorf("signal %s: %w", w.ID, err)
	}
	res := RetryResult{Action: "woken", RunID: w.RunID}
	for _, p := range w.Pending {
		if p.State != "Scheduled" || p.Attempt < 2 {
			continue // running now, or on its first attempt: nothing to hurry
		}
		_, err := s.Temporal.WorkflowService().ResetActivity(ctx, &workflowservice.ResetActivityRequest{
			Namespace: s.namespace(), Execution: &commonpb.WorkflowExecution{WorkflowId: w.ID, RunId: w.RunID},
			Activity: &workflowservice.ResetActivityRequest_Id{Id: p.ActivityID}, Identity: "connect-ingest operator",
		})
		if err != nil {
			return res, fmt.Errorf("retry activity %s of %s now: %w", p.Type, w.ID, err)
		}
		res.ActivitiesReset++
	}
	return res, nil
}

// latestVersion is the claim check of the conversation's newest CTR
// version. A conversation stored before the claim check has its CTR in its
// row, or only in the signals of its first-version run; that CTR is stored
// in the claim-check store first, so the restarted run gets a reference too.
func (s *Service) latestVersion(ctx context.Context, call Call) (workflows.CTRVersion, error) {
	ref, err := s.CTRVersions.Latest(ctx, call.TenantID, call.ContactID)
	if err == nil {
		return workflows.CTRVersion{LastUpdateTimestamp: ref.LastUpdateTimestamp, SHA256: ref.SHA256}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return workflows.CTRVersion{}, err
	}
	legacy, err := s.inlineVersion(ctx, call)
	if err != nil {
		return workflows.CTRVersion{}, err
	}
	stored, err := s.CTRVersions.Put(ctx,
		conversation.NewCTRRef(call.TenantID, call.ContactID, legacy.LastUpdateTimestamp, legacy.CTR), legacy.CTR, legacy.FirehoseRequestID, "", time.Time{})
	if err != nil {
		return workflows.CTRVersion{}, err
	}
	return workflows.CTRVersion{LastUpdateTimestamp: stored.Ref.LastUpdateTimestamp, FirehoseRequestID: legacy.FirehoseRequestID, SHA256: stored.Ref.SHA256}, nil
}

// inlineVersion is the newest CTR version as stored before the claim
// check: in the conversation's row or, when the CTR was never stored, in
// the newest signal to its first-version run.
func (s *Service) inlineVersion(ctx context.Context, call Call) (workflows.CTRVersion, error) {
	if c := call.Conversation; c != nil && len(c.CTR) > 0 {
		return workflows.CTRVersion{LastUpdateTimestamp: c.LastUpdateTimestamp, CTR: c.CTR}, nil
	}
	if call.Workflow == nil {
		return workflows.CTRVersion{}, fmt.Errorf("conversation %s/%s has neither a stored CTR nor a workflow to read it from", call.TenantID, call.ContactID)
	}
	var newest workflows.CTRVersion
	it := s.Temporal.GetWorkflowHistory(ctx, call.Workflow.ID, call.Workflow.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return workflows.CTRVersion{}, fmt.Errorf("history of %s: %w", call.Workflow.ID, err)
		}
		sig := ev.GetWorkflowExecutionSignaledEventAttributes()
		if sig == nil || sig.GetSignalName() != workflows.CTRSignal {
			continue
		}
		var v workflows.CTRVersion
		if err := converter.GetDefaultDataConverter().FromPayloads(sig.GetInput(), &v); err != nil {
			return workflows.CTRVersion{}, fmt.Errorf("decode a CTR version of %s: %w", call.Workflow.ID, err)
		}
		if v.LastUpdateTimestamp.After(newest.LastUpdateTimestamp) {
			newest = v
		}
	}
	if !json.Valid(newest.CTR) {
		return workflows.CTRVersion{}, fmt.Errorf("no CTR version found in the history of %s", call.Workflow.ID)
	}
	return newest, nil
}
