package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
)

// a is the nil receiver through which workflows name activities: type-safe,
// no string names.
var a *activities.Activities

// ConversationWorkflowType is the type name of the conversation workflow
// that Deliver starts: ConversationWorkflowV4's. Earlier versions keep their
// type names for their runs still open: ConversationWorkflowV3,
// ConversationWorkflowV2, and ConversationWorkflow (see
// ConversationWorkflowV1).
const ConversationWorkflowType = "ConversationWorkflowV4"

// ConversationWorkflowV3Type is the type name of ConversationWorkflowV3.
const ConversationWorkflowV3Type = "ConversationWorkflowV3"

// ConversationWorkflowV2Type is the type name of ConversationWorkflowV2.
const ConversationWorkflowV2Type = "ConversationWorkflowV2"

// removeDeletedChange is the workflow change that removes the copies of
// recordings Connect deleted. Runs whose history predates it never had a
// RecordCTR result with copies to remove.
const removeDeletedChange = "remove-deleted-recordings"

// copyBudget bounds one recording's copy, every attempt included, beyond
// the wait for a late recording.
const copyBudget = 3 * time.Hour

// ConversationWorkflowV4 takes one Amazon Connect contact from CTR to stored
// conversation, copied recordings and one analysis job. It starts with the
// CTR version in its input (ConversationInput.First), or, when
// signal-with-start began it, in the signal; later versions arrive by
// signal. All are claim checks. It always works on the newest; versions
// that arrive while it works are taken up before it completes.
//
// A voice call whose recording is in S3 and no larger than the input's
// InlineCopyMaxBytes costs one workflow task: the CTR is recorded, the
// recording copied and the analysis enqueued by local activities, and the
// search attributes are set once, as the run completes. Started by Deliver
// in the worker's own process, that task is dispatched eagerly, in the
// start's answer. A recording that is not in S3 yet, or larger, or whose
// quick copy failed, is copied by the CopyRecording activity, which waits
// for a late recording inside its own retries, at no workflow task per
// look. Each step records its own state in Postgres; every step is bounded
// and ends in a named state.
//
// It has a type name of its own, not ConversationWorkflowV3's, because a
// worker of the release before would run a start's input without its First
// and wait for a signal that never comes; under its own name, such a worker
// refuses the task, which goes to a worker that knows it.
func ConversationWorkflowV4(ctx workflow.Context, in ConversationInput) (ConversationResult, error) {
	return ConversationWorkflowV3(ctx, in)
}

// ConversationWorkflowV3 is the version before ConversationWorkflowV4, kept
// registered under its type name until its open runs have finished. Its
// runs began with signal-with-start, the CTR version in the signal.
func ConversationWorkflowV3(ctx workflow.Context, in ConversationInput) (ConversationResult, error) {
	r := &conversationRun{in: in, signals: workflow.GetSignalChannel(ctx, CTRSignal), inline: true}
	return r.run(ctx)
}

// ConversationWorkflowV2 is the version before ConversationWorkflowV3, kept
// registered under its type name until its open runs have finished. It
// copies every recording with the CopyRecording activity and sets search
// attributes as each step ends: a voice call costs two workflow tasks.
func ConversationWorkflowV2(ctx workflow.Context, in ConversationInput) (ConversationResult, error) {
	r := &conversationRun{in: in, signals: workflow.GetSignalChannel(ctx, CTRSignal)}
	return r.run(ctx)
}

// conversationRun is one run of a conversation workflow: its input and what
// it has done so far.
type conversationRun struct {
	in      ConversationInput
	signals workflow.ReceiveChannel
	// inline marks a ConversationWorkflowV3 run: short recordings are
	// copied by a local activity, and search attributes are upserted only
	// before the run waits on an activity and as it ends.
	inline bool
	// latest is the newest version signalled; done the version last
	// processed.
	latest CTRVersion
	done   time.Time
	res    ConversationResult
	// inFlight is the copy under way, for the clean-up after a cancel.
	inFlight *activities.CopyRecordingInput
	// attrs are the search attributes last upserted, want those the run
	// has reached; flushAttrs upserts the difference.
	attrs, want searchAttrs
}

// searchAttrs are the conversation's search attribute values.
type searchAttrs struct {
	channel, agent string
	state          conversation.State
}

func (r *conversationRun) run(ctx workflow.Context) (ConversationResult, error) {
	if r.in.First != nil {
		r.latest = *r.in.First
	} else {
		r.signals.Receive(ctx, &r.latest)
	}
	r.attrs.state = conversation.Received // set by Deliver at start
	r.want = r.attrs
	res, err := r.versions(ctx)
	// A cancelled run's context is done; the upsert is a command all the
	// same, sent with the run's last task.
	r.flushAttrs(ctx)
	return res, err
}

// versions processes the newest version signalled until none is newer than
// the one processed last.
func (r *conversationRun) versions(ctx workflow.Context) (ConversationResult, error) {
	for {
		r.takeNewest()
		if r.res.Versions > 0 && !r.latest.LastUpdateTimestamp.After(r.done) {
			return r.res, nil
		}
		err := r.process(ctx, r.latest)
		r.res.Versions++
		r.done = r.latest.LastUpdateTimestamp
		if temporal.IsCanceledError(err) {
			return r.cancelled(ctx, err)
		}
		if isType(err, activities.ErrTypeContactErased) {
			// Its erasure began while the run worked: nothing of the
			// contact may be written again, its state included.
			return r.res, r.ended(ctx, conversation.Erased, "contact erased")
		}
		if err != nil {
			return r.fail(ctx, err)
		}
	}
}

// takeNewest takes up the versions signalled meanwhile, keeping the newest.
func (r *conversationRun) takeNewest() {
	for {
		var v CTRVersion
		if !r.signals.ReceiveAsync(&v) {
			return
		}
		if v.LastUpdateTimestamp.After(r.latest.LastUpdateTimestamp) {
			r.latest = v
		}
	}
}

// process takes one CTR version as far as it goes: recorded, recordings
// copied, analysis enqueued, or a final state on the way.
func (r *conversationRun) process(ctx workflow.Context, v CTRVersion) error {
	var rec activities.RecordCTRResult
	err := workflow.ExecuteLocalActivity(localCtx(ctx), a.RecordCTR, activities.RecordCTRInput{Ref: v.ref(r.in)}).Get(ctx, &rec)
	switch {
	case isType(err, activities.ErrTypeMalformedCTR):
		return r.finish(ctx, conversation.Rejected, "malformed CTR: "+err.Error())
	case err != nil:
		return err
	}
	r.setAttrs(ctx, searchAttrs{channel: rec.Channel, agent: rec.AgentUsername, state: rec.State})
	if len(rec.ToRemove) > 0 && workflow.GetVersion(ctx, removeDeletedChange, workflow.DefaultVersion, 1) >= 1 {
		// Connect deleted recordings already copied: their copies go, and
		// the platform is told to drop their analysis.
		err := workflow.ExecuteLocalActivity(localCtx(ctx), a.RemoveDeletedRecordings, activities.RemoveDeletedRecordingsInput{
			TenantID: r.in.TenantID, ContactID: r.in.ContactID, Recordings: rec.ToRemove,
		}).Get(ctx, nil)
		if err != nil {
			return err
		}
	}
	if rec.State.Final() {
		r.res.State, r.res.Detail = rec.State, ""
		return nil
	}
	for _, ref := range rec.ToCopy {
		copied, err := r.copy(ctx, rec, ref)
		switch {
		case isType(err, activities.ErrTypeLocationNotAllowed):
			return r.ended(ctx, conversation.Rejected, "recording location refused: "+err.Error())
		case isType(err, activities.ErrTypeRecordingMissing):
			return r.ended(ctx, conversation.RecordingMissing, err.Error())
		case isType(err, activities.ErrTypeRecordingEmpty):
			return r.ended(ctx, conversation.RecordingEmpty, err.Error())
		case isType(err, activities.ErrTypeRecordingAccessDenied):
			return r.ended(ctx, conversation.RecordingAccessDenied, err.Error())
		case err != nil:
			return err
		}
		r.res.Recordings = append(r.res.Recordings, copied)
	}
	var enq activities.EnqueueAnalysisResult
	err = workflow.ExecuteLocalActivity(localCtx(ctx), a.EnqueueAnalysis,
		activities.EnqueueAnalysisInput{TenantID: r.in.TenantID, ContactID: r.in.ContactID}).Get(ctx, &enq)
	if err != nil {
		return err
	}
	r.res.Enqueued = r.res.Enqueued || enq.Enqueued
	return r.ended(ctx, conversation.Enqueued, "")
}

// copy streams one recording into MinIO. A ConversationWorkflowV3 run first
// tries a local activity, which copies a recording that is in S3 and short
// at once; otherwise, and for ConversationWorkflowV2, the CopyRecording
// activity copies it, waiting for a recording not in S3 yet until the wait
// window ends.
func (r *conversationRun) copy(ctx workflow.Context, rec activities.RecordCTRResult, ref activities.RecordingRef) (activities.CopyRecordingResult, error) {
	window := r.in.RecordingWaitWindow
	input := activities.CopyRecordingInput{
		TenantID: r.in.TenantID, ContactID: r.in.ContactID, Location: ref.Location,
		Participant: ref.Participant, MediaType: ref.MediaType, Day: rec.Day,
		WaitUntil: workflow.Now(ctx).Add(window),
	}
	r.inFlight = &input
	if r.inline && r.in.InlineCopyMaxBytes > 0 {
		copied, done, err := r.copyShort(ctx, input)
		if done || err != nil {
			if !temporal.IsCanceledError(err) {
				r.inFlight = nil
			}
			return copied, err
		}
	}
	r.flushAttrs(ctx)
	cctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Hour,
		ScheduleToCloseTimeout: window + copyBudget,
		HeartbeatTimeout:       time.Minute,
		// On cancel, wait until the copy has stopped, so that the clean-up
		// never races a copy still writing.
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
	var out activities.CopyRecordingResult
	err := workflow.ExecuteActivity(cctx, a.CopyRecording, input).Get(ctx, &out)
	if !temporal.IsCanceledError(err) {
		r.inFlight = nil
	}
	return out, err
}

// copyShort tries the quick copy once. done reports a copy made; an error
// is one retrying cannot fix (or a cancellation). A recording deferred, or a
// quick copy that failed otherwise, is left to the CopyRecording activity,
// with its retries.
func (r *conversationRun) copyShort(ctx workflow.Context, input activities.CopyRecordingInput) (activities.CopyRecordingResult, bool, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var out activities.CopyShortRecordingResult
	err := workflow.ExecuteLocalActivity(lctx, a.CopyShortRecording,
		activities.CopyShortRecordingInput{Copy: input, MaxBytes: r.in.InlineCopyMaxBytes}).Get(ctx, &out)
	var ae *temporal.ApplicationError
	switch {
	case err == nil:
		return out.Copied, out.Deferred == "", nil
	case temporal.IsCanceledError(err), errors.As(err, &ae) && ae.NonRetryable():
		return activities.CopyRecordingResult{}, false, err
	}
	workflow.GetLogger(ctx).Warn("quick copy failed; the copy activity takes over", "location", input.Location, "error", err)
	return activities.CopyRecordingResult{}, false, nil
}

// ended notes a state an activity has already recorded in Postgres: the
// result and the search attribute follow it.
func (r *conversationRun) ended(ctx workflow.Context, state conversation.State, detail string) error {
	r.res.State, r.res.Detail = state, detail
	r.setAttrs(ctx, searchAttrs{channel: r.want.channel, agent: r.want.agent, state: state})
	return nil
}

// finish records a final state no activity has recorded (the CTR was never
// stored) and notes it.
func (r *conversationRun) finish(ctx workflow.Context, state conversation.State, detail string) error {
	if err := r.setState(ctx, state, detail); err != nil {
		return err
	}
	return r.ended(ctx, state, detail)
}

// fail records the failed state with its reason, on a context that
// survives cancellation, and returns the error so that the run fails
// visibly and an operator can retry it.
func (r *conversationRun) fail(ctx workflow.Context, err error) (ConversationResult, error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if serr := r.setState(dctx, conversation.Failed, err.Error()); serr != nil {
		workflow.GetLogger(ctx).Error("failed state not recorded", "error", serr)
	}
	r.res.State, r.res.Detail = conversation.Failed, err.Error()
	r.setAttrs(dctx, searchAttrs{channel: r.want.channel, agent: r.want.agent, state: conversation.Failed})
	return r.res, err
}

// cancelled ends a run an operator cancelled: it removes what a stopped copy
// left behind, marks the conversation cancelled with the operator's reason,
// and returns the cancellation so that the run shows as Canceled.
func (r *conversationRun) cancelled(ctx workflow.Context, cause error) (ConversationResult, error) {
	dctx, reason := cleanUpCancelled(ctx, r.inFlight)
	r.res.State, r.res.Detail = conversation.Cancelled, reason
	if err := r.setState(dctx, conversation.Cancelled, reason); err != nil {
		return r.res, err
	}
	r.setAttrs(dctx, searchAttrs{channel: r.want.channel, agent: r.want.agent, state: conversation.Cancelled})
	return r.res, cause
}

// setState records a state with the SetState activity: only on the paths
// where no other step records it (a rejected CTR that was never stored, a
// failure, a cancellation).
func (r *conversationRun) setState(ctx workflow.Context, state conversation.State, detail string) error {
	return workflow.ExecuteLocalActivity(localCtx(ctx), a.SetState, activities.SetStateInput{
		TenantID: r.in.TenantID, ContactID: r.in.ContactID, State: state, Detail: detail,
	}).Get(ctx, nil)
}

// setAttrs notes the search attribute values the run has reached, bounded
// to what the server accepts. A ConversationWorkflowV2 run upserts them at
// once; a ConversationWorkflowV3 run leaves that to flushAttrs, so that a
// workflow task upserts once at most.
func (r *conversationRun) setAttrs(ctx workflow.Context, want searchAttrs) {
	want.channel, want.agent = keyword(want.channel), keyword(want.agent)
	r.want = want
	if !r.inline {
		r.flushAttrs(ctx)
	}
}

// flushAttrs upserts, in one command, the search attributes that differ
// from those last upserted.
func (r *conversationRun) flushAttrs(ctx workflow.Context) {
	want := r.want
	var updates []temporal.SearchAttributeUpdate
	if want.channel != r.attrs.channel {
		updates = append(updates, ChannelKey.ValueSet(want.channel))
	}
	if want.agent != r.attrs.agent {
		updates = append(updates, AgentUsernameKey.ValueSet(want.agent))
	}
	if want.state != r.attrs.state {
		updates = append(updates, ConversationStateKey.ValueSet(string(want.state)))
	}
	if len(updates) == 0 {
		return
	}
	r.attrs = want
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Error("search attributes not set", "error", err)
	}
	// The SDK's logger adds the workflow and run IDs, and skips replays.
	workflow.GetLogger(ctx).Info("conversation state", "tenant_id", r.in.TenantID, "contact_id", r.in.ContactID, "state", want.state)
}

// localCtx runs short, idempotent steps as local activities: in the
// workflow task that needs them, with no task of their own. They are
// bounded: a step still failing after its attempts fails the run, which
// records failed with the reason.
func localCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    10,
		},
	})
}

func isType(err error, typ string) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() == typ
}
