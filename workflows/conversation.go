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
// that Deliver starts: ConversationWorkflowV2's. (The first version keeps
// its type name, ConversationWorkflow, for its runs still open; see
// ConversationWorkflowV1.)
const ConversationWorkflowType = "ConversationWorkflowV2"

// copyBudget bounds one recording's copy, every attempt included, beyond
// the wait for a late recording.
const copyBudget = 3 * time.Hour

// ConversationWorkflowV2 takes one Amazon Connect contact from CTR to stored
// conversation, copied recordings and one analysis job. It receives CTR
// versions by signal, as claim checks, and always works on the newest;
// versions that arrive while it works are taken up before it completes.
//
// A voice call whose recording is in S3 costs two workflow tasks: the first
// records the CTR (a local activity that also decides what is left) and
// starts the copy, the second enqueues the analysis (a local activity) and
// completes. Each step records its own state in Postgres; a late recording
// is waited for inside the copy's retries, at no workflow task per look.
// Every step is bounded and ends in a named state.
func ConversationWorkflowV2(ctx workflow.Context, in ConversationInput) (ConversationResult, error) {
	r := &conversationRun{in: in, signals: workflow.GetSignalChannel(ctx, CTRSignal)}
	return r.run(ctx)
}

// conversationRun is one run of ConversationWorkflowV2: its input and what it
// has done so far.
type conversationRun struct {
	in      ConversationInput
	signals workflow.ReceiveChannel
	// latest is the newest version signalled; done the version last
	// processed.
	latest CTRVersion
	done   time.Time
	res    ConversationResult
	// inFlight is the copy under way, for the clean-up after a cancel.
	inFlight *activities.CopyRecordingInput
	// attrs are the search attributes last set, so that a task upserts
	// only what changed.
	attrs searchAttrs
}

// searchAttrs are the conversation's search attribute values.
type searchAttrs struct {
	channel, agent string
	state          conversation.State
}

func (r *conversationRun) run(ctx workflow.Context) (ConversationResult, error) {
	r.signals.Receive(ctx, &r.latest)
	r.attrs.state = conversation.Received // set by Deliver at start
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

// copy streams one recording into MinIO. The activity itself waits for a
// recording not in S3 yet, until the wait window ends.
func (r *conversationRun) copy(ctx workflow.Context, rec activities.RecordCTRResult, ref activities.RecordingRef) (activities.CopyRecordingResult, error) {
	window := r.in.RecordingWaitWindow
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
	input := activities.CopyRecordingInput{
		TenantID: r.in.TenantID, ContactID: r.in.ContactID, Location: ref.Location,
		Participant: ref.Participant, MediaType: ref.MediaType, Day: rec.Day,
		WaitUntil: workflow.Now(ctx).Add(window),
	}
	r.inFlight = &input
	var out activities.CopyRecordingResult
	err := workflow.ExecuteActivity(cctx, a.CopyRecording, input).Get(ctx, &out)
	if !temporal.IsCanceledError(err) {
		r.inFlight = nil
	}
	return out, err
}

// ended notes a state an activity has already recorded in Postgres: the
// result and the search attribute follow it.
func (r *conversationRun) ended(ctx workflow.Context, state conversation.State, detail string) error {
	r.res.State, r.res.Detail = state, detail
	r.setAttrs(ctx, searchAttrs{channel: r.attrs.channel, agent: r.attrs.agent, state: state})
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
	r.setAttrs(dctx, searchAttrs{channel: r.attrs.channel, agent: r.attrs.agent, state: conversation.Failed})
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
	r.setAttrs(dctx, searchAttrs{channel: r.attrs.channel, agent: r.attrs.agent, state: conversation.Cancelled})
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

// setAttrs upserts the search attributes that differ from those last set,
// in one upsert, with values bounded to what the server accepts.
func (r *conversationRun) setAttrs(ctx workflow.Context, want searchAttrs) {
	want.channel, want.agent = keyword(want.channel), keyword(want.agent)
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
