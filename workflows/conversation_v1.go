package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
)

// Waiting for a late recording in the first version: the first check after
// recordingFirstWait, then twice as long each time, at most recordingMaxWait
// apart.
const (
	recordingFirstWait = 15 * time.Second
	recordingMaxWait   = 5 * time.Minute
)

// ConversationWorkflowV1Type is the type name of the first conversation
// workflow, as the histories of its runs name it.
const ConversationWorkflowV1Type = "ConversationWorkflow"

// ConversationWorkflowV1 is the first version of the conversation workflow,
// registered as ConversationWorkflowV1Type and kept for the runs that
// started under it until they are drained: every CTR version rode whole in
// its signal and through two activities, and it recorded each state with
// an activity of its own. Signals sent since the claim check carry only a
// reference, which its activities read from the claim-check store.
func ConversationWorkflowV1(ctx workflow.Context, in ConversationInput) (ConversationResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
	signals := workflow.GetSignalChannel(ctx, CTRSignal)
	var latest CTRVersion
	signals.Receive(ctx, &latest)

	var res ConversationResult
	var done time.Time
	// inFlight is the copy under way, for the clean-up after a cancel.
	var inFlight *activities.CopyRecordingInput
	for {
		for {
			var v CTRVersion
			if !signals.ReceiveAsync(&v) {
				break
			}
			if v.LastUpdateTimestamp.After(latest.LastUpdateTimestamp) {
				latest = v
			}
		}
		if res.Versions > 0 && !latest.LastUpdateTimestamp.After(done) {
			return res, nil
		}
		var err error
		res, err = processVersion(ctx, in, latest, res, &inFlight)
		res.Versions++
		done = latest.LastUpdateTimestamp
		if temporal.IsCanceledError(err) {
			return cancelled(ctx, in, res, inFlight, err)
		}
		if err != nil {
			return res, err
		}
	}
}

// processVersion runs the steps for one CTR version.
func processVersion(ctx workflow.Context, in ConversationInput, v CTRVersion, res ConversationResult, inFlight **activities.CopyRecordingInput) (ConversationResult, error) {
	var meta activities.NormalizeCTRResult
	err := workflow.ExecuteActivity(ctx, normalizeCTR(ctx), activities.NormalizeCTRInput{TenantID: in.TenantID, CTR: v.CTR, Ref: v.ref(in)}).Get(ctx, &meta)
	if isType(err, activities.ErrTypeMalformedCTR) {
		return finish(ctx, in, res, conversation.Rejected, "malformed CTR: "+err.Error())
	}
	if err != nil {
		return fail(ctx, in, res, err)
	}
	conv := meta.Conversation
	_ = workflow.UpsertTypedSearchAttributes(ctx, ChannelKey.ValueSet(keyword(conv.Channel)), AgentUsernameKey.ValueSet(keyword(conv.AgentUsername)))

	var stored activities.StoreConversationResult
	err = workflow.ExecuteActivity(ctx, a.StoreConversation, activities.StoreConversationInput{Conversation: conv, CTR: v.CTR, Ref: v.ref(in)}).Get(ctx, &stored)
	if err != nil {
		return fail(ctx, in, res, err)
	}
	if stored.Enqueued {
		// A finished conversation: the newer metadata is stored and,
		// unless the update brings a recording not yet copied, nothing is
		// copied or enqueued again. (Version 1 added re-analysis of a
		// changed recording; runs recorded before it never took that path.)
		v := workflow.GetVersion(ctx, "reanalyse-changed-recording", workflow.DefaultVersion, 1)
		if v == workflow.DefaultVersion || !hasNew(meta.Recordings, stored.Copied) {
			res.State, res.Detail = conversation.Enqueued, ""
			return res, upsertState(ctx, conversation.Enqueued)
		}
	}
	if !meta.Analysable {
		return finish(ctx, in, res, conversation.NoRecording, meta.NoAudioReason)
	}

	for _, rec := range meta.Recordings {
		if slices.Contains(stored.Copied, rec.Location) {
			continue
		}
		copied, state, detail, err := copyRecording(ctx, in, meta, rec, inFlight)
		if err != nil {
			return fail(ctx, in, res, err)
		}
		if state != "" {
			return finish(ctx, in, res, state, detail)
		}
		res.Recordings = append(res.Recordings, copied)
	}

	if err := setState(ctx, in, conversation.Stored, ""); err != nil {
		return fail(ctx, in, res, err)
	}
	var enq activities.EnqueueAnalysisResult
	err = workflow.ExecuteActivity(ctx, a.EnqueueAnalysis, activities.EnqueueAnalysisInput{TenantID: in.TenantID, ContactID: in.ContactID}).Get(ctx, &enq)
	if err != nil {
		return fail(ctx, in, res, err)
	}
	res.Enqueued = res.Enqueued || enq.Enqueued
	res.State, res.Detail = conversation.Enqueued, ""
	return res, upsertState(ctx, conversation.Enqueued)
}

// normalizeCTR names the activity that normalises a CTR: NormalizeCTR, or
// by its old name for runs that scheduled it before the rename.
func normalizeCTR(ctx workflow.Context) any {
	if workflow.GetVersion(ctx, "normalize-ctr", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return activities.LegacyNormalizeCTRName
	}
	return a.NormalizeCTR
}

// copyRecording copies one recording, waiting with durable timers while it
// is not in S3 yet. It returns a final state instead of a copy when the
// recording never arrived within the window or may not be copied.
func copyRecording(ctx workflow.Context, in ConversationInput, meta activities.NormalizeCTRResult, rec activities.RecordingRef, inFlight **activities.CopyRecordingInput) (activities.CopyRecordingResult, conversation.State, string, error) {
	copyCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		// On cancel, wait until the copy has stopped, so that the clean-up
		// never races a copy still writing.
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
	input := activities.CopyRecordingInput{
		TenantID: in.TenantID, ContactID: in.ContactID, Location: rec.Location,
		Participant: rec.Participant, MediaType: rec.MediaType, Day: meta.Day,
	}
	// inFlight names the copy until it ends other than by a cancel, which
	// leaves it for the clean-up.
	*inFlight = &input
	deadline := workflow.Now(ctx).Add(in.RecordingWaitWindow)
	wait := recordingFirstWait
	for {
		if err := setState(ctx, in, conversation.Copying, rec.Location); err != nil {
			return activities.CopyRecordingResult{}, "", "", err
		}
		var out activities.CopyRecordingResult
		err := workflow.ExecuteActivity(copyCtx, a.CopyRecording, input).Get(ctx, &out)
		if !temporal.IsCanceledError(err) {
			*inFlight = nil
		}
		switch {
		case err == nil:
			return out, "", "", nil
		case isType(err, activities.ErrTypeLocationNotAllowed):
			return out, conversation.Rejected, "recording location refused: " + err.Error(), nil
		case !isType(err, activities.ErrTypeRecordingNotFound):
			return out, "", "", err
		}
		now := workflow.Now(ctx)
		if !now.Before(deadline) {
			return out, conversation.RecordingMissing, "recording " + rec.Location + " did not appear in S3 within " + in.RecordingWaitWindow.String(), nil
		}
		if err := setState(ctx, in, conversation.WaitingRecording, rec.Location); err != nil {
			return out, "", "", err
		}
		if err := sleepUnlessRetried(ctx, min(wait, deadline.Sub(now))); err != nil {
			return out, "", "", err
		}
		wait = min(wait*2, recordingMaxWait)
	}
}

// sleepUnlessRetried waits d, or less if an operator asks for a retry now.
func sleepUnlessRetried(ctx workflow.Context, d time.Duration) error {
	tctx, cancelTimer := workflow.WithCancel(ctx)
	timer := workflow.NewTimer(tctx, d)
	var err error
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(f workflow.Future) { err = f.Get(ctx, nil) })
	sel.AddReceive(workflow.GetSignalChannel(ctx, RetrySignal), func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		cancelTimer()
	})
	sel.Select(ctx)
	if ctx.Err() != nil {
		return temporal.NewCanceledError()
	}
	return err
}

// cancelled ends a run an operator cancelled: it removes what a stopped copy
// left behind, marks the conversation cancelled with the operator's reason,
// and returns the cancellation so that the run shows as Canceled.
func cancelled(ctx workflow.Context, in ConversationInput, res ConversationResult, inFlight *activities.CopyRecordingInput, cause error) (ConversationResult, error) {
	dctx, reason := cleanUpCancelled(ctx, inFlight)
	res.State, res.Detail = conversation.Cancelled, reason
	if err := setState(dctx, in, conversation.Cancelled, reason); err != nil {
		return res, err
	}
	return res, cause
}

// cleanUpCancelled is what every version does first when an operator
// cancels a run: on a context that outlives the cancellation, it reads the
// operator's reason and discards what a stopped copy left behind. It
// returns that context, for the state to be recorded on, and the reason.
func cleanUpCancelled(ctx workflow.Context, inFlight *activities.CopyRecordingInput) (workflow.Context, string) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, MaximumAttempts: 20},
	})
	reason := "cancelled by an operator"
	var r CancelReason
	if workflow.GetSignalChannel(ctx, CancelReasonSignal).ReceiveAsync(&r) && r.Reason != "" {
		reason = r.Reason
	}
	if inFlight != nil {
		if err := workflow.ExecuteActivity(dctx, a.DiscardPartialCopy, activities.DiscardPartialCopyInput{Copy: *inFlight}).Get(dctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("partial copy not discarded", "location", inFlight.Location, "error", err)
		}
	}
	return dctx, reason
}

// hasNew reports whether any recording is not among the copied locations.
func hasNew(recs []activities.RecordingRef, copied []string) bool {
	for _, r := range recs {
		if !slices.Contains(copied, r.Location) {
			return true
		}
	}
	return false
}

// finish records a final state and completes the run without error.
func finish(ctx workflow.Context, in ConversationInput, res ConversationResult, state conversation.State, detail string) (ConversationResult, error) {
	res.State, res.Detail = state, detail
	return res, setState(ctx, in, state, detail)
}

// fail records the failed state, on a context that survives cancellation,
// and returns the error so the run fails visibly. A cancellation is not a
// failure: it goes back up to the workflow, which handles it.
func fail(ctx workflow.Context, in ConversationInput, res ConversationResult, err error) (ConversationResult, error) {
	if temporal.IsCanceledError(err) {
		return res, err
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	res.State, res.Detail = conversation.Failed, err.Error()
	_ = setState(dctx, in, conversation.Failed, err.Error())
	return res, err
}

// setState moves the conversation to state, in Postgres and in the search
// attributes.
func setState(ctx workflow.Context, in ConversationInput, state conversation.State, detail string) error {
	err := workflow.ExecuteActivity(ctx, a.SetState, activities.SetStateInput{
		TenantID: in.TenantID, ContactID: in.ContactID, State: state, Detail: detail,
	}).Get(ctx, nil)
	if err != nil {
		return err
	}
	// The SDK's logger adds the workflow and run IDs, and skips replays.
	workflow.GetLogger(ctx).Info("conversation state", "tenant_id", in.TenantID, "contact_id", in.ContactID, "state", state, "detail", detail)
	return upsertState(ctx, state)
}

func upsertState(ctx workflow.Context, state conversation.State) error {
	return workflow.UpsertTypedSearchAttributes(ctx, ConversationStateKey.ValueSet(string(state)))
}
