package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/workflows"
)

// ref is the claim check of version lu, as the consumer signals it.
func ref(lu time.Time) workflows.CTRVersion {
	return workflows.CTRVersion{LastUpdateTimestamp: lu, SHA256: "5ha-" + lu.Format(time.RFC3339)}
}

func recorded(state conversation.State, toCopy ...string) activities.RecordCTRResult {
	r := activities.RecordCTRResult{State: state, Channel: "VOICE", AgentUsername: "jdoe", Day: t0}
	for _, l := range toCopy {
		r.ToCopy = append(r.ToCopy, activities.RecordingRef{Location: l, Participant: "AGENT", MediaType: "AUDIO"})
	}
	return r
}

// inlineMax is the input's bound on recordings copied inline.
const inlineMax = 32 << 20

// runConv runs workflow wf (ConversationWorkflowV2 or V3) with the versions
// signalled in order and returns its result and error.
func (h *harness) runConv(wf any, versions ...workflows.CTRVersion) (workflows.ConversationResult, error) {
	h.t.Helper()
	return h.runInput(wf, workflows.ConversationInput{TenantID: "acme", ContactID: "c-1",
		RecordingWaitWindow: 10 * time.Minute, InlineCopyMaxBytes: inlineMax}, versions...)
}

// runInput runs workflow wf with input in and the versions signalled in
// order.
func (h *harness) runInput(wf any, in workflows.ConversationInput, versions ...workflows.CTRVersion) (workflows.ConversationResult, error) {
	h.t.Helper()
	for i, v := range versions {
		h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.CTRSignal, v) }, time.Duration(i)*time.Millisecond)
	}
	h.env.ExecuteWorkflow(wf, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var res workflows.ConversationResult
	err := h.env.GetWorkflowResult(&res)
	return res, err
}

// shapes are the workflow versions whose steps around the copy activity
// are the same; for ConversationWorkflowV3 and V4, tests that reach the
// copy activity find the recording deferred by the quick copy. A V4 run
// here begins as signal-with-start begins it, with no version in its input.
var shapes = []struct {
	name  string
	wf    any
	quick bool
}{
	{"v2", workflows.ConversationWorkflowV2, false},
	{"v3", workflows.ConversationWorkflowV3, true},
	{"v4", workflows.ConversationWorkflowV4, true},
}

// deferQuickCopy makes the quick copy find the recording not in S3 yet.
func (h *harness) deferQuickCopy() {
	h.env.OnActivity(a.CopyShortRecording, mock.Anything, mock.Anything).
		Return(activities.CopyShortRecordingResult{Deferred: activities.DeferredNotInS3}, nil).Maybe()
}

// upserts counts the search-attribute upserts a run makes.
func (h *harness) upserts() *int {
	n := new(int)
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(mock.Arguments) { *n++ }).Return(nil).Maybe()
	return n
}

func TestConversationWorkflowV3(t *testing.T) {
	recordOnce := func(h *harness) {
		h.env.OnActivity(a.RecordCTR, mock.Anything, mock.Anything).Return(recorded(conversation.Copying, loc), nil).Once()
	}
	enqueue := func(h *harness) {
		h.env.OnActivity(a.EnqueueAnalysis, mock.Anything, activities.EnqueueAnalysisInput{TenantID: "acme", ContactID: "c-1"}).
			Return(activities.EnqueueAnalysisResult{Enqueued: true}, nil).Once()
	}

	t.Run("a voice call whose short recording is in S3 is copied inline: no copy activity, one upsert, no SetState", func(t *testing.T) {
		h := newHarness(t)
		n := h.upserts()
		recordOnce(h)
		h.env.OnActivity(a.CopyShortRecording, mock.Anything, mock.MatchedBy(func(in activities.CopyShortRecordingInput) bool {
			return in.MaxBytes == inlineMax && in.Copy.Location == loc && in.Copy.Day.Equal(t0)
		})).Return(activities.CopyShortRecordingResult{Copied: copied()}, nil).Once()
		enqueue(h)
		res, err := h.runConv(workflows.ConversationWorkflowV3, ref(t0))
		if err != nil || res.State != conversation.Enqueued || !res.Enqueued || len(res.Recordings) != 1 {
			t.Fatalf("result = %+v, %v", res, err)
		}
		h.env.AssertActivityNotCalled(t, "CopyRecording", mock.Anything, mock.Anything)
		if len(h.states) != 0 {
			t.Fatalf("SetState ran with %v on the happy path", h.states)
		}
		if *n != 1 {
			t.Fatalf("%d search-attribute upserts, want 1 as the run ends", *n)
		}
		h.env.AssertExpectations(t)
	})

	t.Run("a recording the quick copy defers (late or large) goes to the copy activity, which waits the window", func(t *testing.T) {
		for _, why := range []string{activities.DeferredNotInS3, activities.DeferredTooLarge} {
			h := newHarness(t)
			recordOnce(h)
			h.env.OnActivity(a.CopyShortRecording, mock.Anything, mock.Anything).Return(activities.CopyShortRecordingResult{Deferred: why}, nil).Once()
			var waitUntil time.Time
			h.env.OnActivity(a.CopyRecording, mock.Anything, mock.MatchedBy(func(in activities.CopyRecordingInput) bool {
				waitUntil = in.WaitUntil
				return in.Location == loc
			})).Return(copied(), nil).Once()
			enqueue(h)
			start := h.env.Now()
			res, err := h.runConv(workflows.ConversationWorkflowV3, ref(t0))
			if err != nil || res.State != conversation.Enqueued || len(res.Recordings) != 1 {
				t.Fatalf("%s: result = %+v, %v", why, res, err)
			}
			if got := waitUntil.Sub(start); got != 10*time.Minute {
				t.Fatalf("%s: the copy waits %v for its recording, want the 10m window", why, got)
			}
		}
	})

	t.Run("a quick copy that fails for a reason retrying can fix is taken over by the copy activity", func(t *testing.T) {
		h := newHarness(t)
		recordOnce(h)
		h.env.OnActivity(a.CopyShortRecording, mock.Anything, mock.Anything).
			Return(activities.CopyShortRecordingResult{}, errors.New("minio: connection refused")).Once()
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(copied(), nil).Once()
		enqueue(h)
		res, err := h.runConv(workflows.ConversationWorkflowV3, ref(t0))
		if err != nil || res.State != conversation.Enqueued {
			t.Fatalf("result = %+v, %v", res, err)
		}
		h.env.AssertExpectations(t)
	})

	t.Run("a quick copy refused for good ends the call at once in its named state", func(t *testing.T) {
		for typ, want := range map[string]conversation.State{
			activities.ErrTypeLocationNotAllowed:    conversation.Rejected,
			activities.ErrTypeRecordingEmpty:        conversation.RecordingEmpty,
			activities.ErrTypeRecordingAccessDenied: conversation.RecordingAccessDenied,
		} {
			h := newHarness(t)
			recordOnce(h)
			h.env.OnActivity(a.CopyShortRecording, mock.Anything, mock.Anything).Return(activities.CopyShortRecordingResult{},
				temporal.NewNonRetryableApplicationError("refused", typ, nil)).Once()
			res, err := h.runConv(workflows.ConversationWorkflowV3, ref(t0))
			if err != nil || res.State != want {
				t.Fatalf("%s: result = %+v, %v", typ, res, err)
			}
			h.env.AssertActivityNotCalled(t, "CopyRecording", mock.Anything, mock.Anything)
			h.env.AssertActivityNotCalled(t, "EnqueueAnalysis", mock.Anything, mock.Anything)
		}
	})

	t.Run("with no inline bound in its input, every recording goes to the copy activity", func(t *testing.T) {
		h := newHarness(t)
		recordOnce(h)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(copied(), nil).Once()
		enqueue(h)
		res, err := h.runInput(workflows.ConversationWorkflowV3, workflows.ConversationInput{TenantID: "acme", ContactID: "c-1", RecordingWaitWindow: time.Minute}, ref(t0))
		if err != nil || res.State != conversation.Enqueued {
			t.Fatalf("result = %+v, %v", res, err)
		}
		h.env.AssertActivityNotCalled(t, "CopyShortRecording", mock.Anything, mock.Anything)
	})
}

func TestConversationWorkflowV4(t *testing.T) {
	started := func(first workflows.CTRVersion) workflows.ConversationInput {
		return workflows.ConversationInput{TenantID: "acme", ContactID: "c-1", RecordingWaitWindow: 10 * time.Minute,
			InlineCopyMaxBytes: inlineMax, First: &first}
	}
	// records notes the versions the record step is given, each by
	// reference; the step takes a second, so that a signal sent meanwhile
	// arrives while the run works.
	records := func(h *harness) *[]time.Time {
		seen := new([]time.Time)
		h.env.OnActivity(a.RecordCTR, mock.Anything, mock.Anything).After(time.Second).Return(func(_ context.Context, in activities.RecordCTRInput) (activities.RecordCTRResult, error) {
			if in.Ref.SHA256 != ref(in.Ref.LastUpdateTimestamp).SHA256 || in.Ref.TenantID != "acme" || in.Ref.ContactID != "c-1" {
				t.Errorf("record step got ref %+v", in.Ref)
			}
			*seen = append(*seen, in.Ref.LastUpdateTimestamp)
			return recorded(conversation.NoRecording), nil
		})
		return seen
	}

	t.Run("a run started with its first version in the input needs no signal", func(t *testing.T) {
		h := newHarness(t)
		seen := records(h)
		res, err := h.runInput(workflows.ConversationWorkflowV4, started(ref(t0)))
		if err != nil || res.State != conversation.NoRecording || res.Versions != 1 || len(*seen) != 1 || !(*seen)[0].Equal(t0) {
			t.Fatalf("result = %+v, %v; processed %v", res, err, *seen)
		}
	})

	t.Run("a version signalled while it works is taken up if newer, ignored if older", func(t *testing.T) {
		h := newHarness(t)
		seen := records(h)
		res, err := h.runInput(workflows.ConversationWorkflowV4, started(ref(t0)), ref(t0.Add(-time.Minute)), ref(t0.Add(time.Hour)))
		if err != nil || res.Versions != 2 || len(*seen) != 2 || !(*seen)[0].Equal(t0) || !(*seen)[1].Equal(t0.Add(time.Hour)) {
			t.Fatalf("versions = %d, processed %v, %v; want t0 then t0+1h", res.Versions, *seen, err)
		}
	})
}

// TestConversationSteps holds every version to the rules they share: the
// named end states, bounded retries, newest versions by reference, and a
// clean cancel of a copy under way.
func TestConversationSteps(t *testing.T) {
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) { conversationSteps(t, shape.wf, shape.quick) })
	}
}

func conversationSteps(t *testing.T, wf any, quick bool) {
	newHarness := func(t *testing.T) *harness {
		h := newHarness(t)
		if quick {
			h.deferQuickCopy()
		}
		return h
	}

	t.Run("a voice call takes three steps, each recording its own state: no SetState on the happy path", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.RecordCTR, mock.Anything, activities.RecordCTRInput{Ref: conversation.CTRRef{
			TenantID: "acme", ContactID: "c-1", LastUpdateTimestamp: t0, SHA256: ref(t0).SHA256,
		}}).Return(recorded(conversation.Copying, loc), nil).Once()
		var waitUntil time.Time
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.MatchedBy(func(in activities.CopyRecordingInput) bool {
			waitUntil = in.WaitUntil
			return in.Location == loc && in.Day.Equal(t0)
		})).Return(copied(), nil).Once()
		h.env.OnActivity(a.EnqueueAnalysis, mock.Anything, activities.EnqueueAnalysisInput{TenantID: "acme", ContactID: "c-1"}).
			Return(activities.EnqueueAnalysisResult{Enqueued: true}, nil).Once()
		start := h.env.Now()
		res, err := h.runConv(wf, ref(t0))
		if err != nil || res.State != conversation.Enqueued || !res.Enqueued || len(res.Recordings) != 1 {
			t.Fatalf("result = %+v, %v", res, err)
		}
		if len(h.states) != 0 {
			t.Fatalf("SetState ran with %v on the happy path", h.states)
		}
		if got := waitUntil.Sub(start); got != 10*time.Minute {
			t.Fatalf("the copy waits %v for its recording, want the 10m window", got)
		}
		h.env.AssertExpectations(t)
	})

	t.Run("a contact the record step finds final (no audio, or analysed with nothing new) ends there", func(t *testing.T) {
		for _, state := range []conversation.State{conversation.NoRecording, conversation.Enqueued} {
			h := newHarness(t)
			h.env.OnActivity(a.RecordCTR, mock.Anything, mock.Anything).Return(recorded(state), nil).Once()
			res, err := h.runConv(wf, ref(t0))
			if err != nil || res.State != state {
				t.Fatalf("%s: result = %+v, %v", state, res, err)
			}
			h.env.AssertActivityNotCalled(t, "CopyRecording", mock.Anything, mock.Anything)
			h.env.AssertActivityNotCalled(t, "EnqueueAnalysis", mock.Anything, mock.Anything)
		}
	})

	t.Run("a malformed CTR is rejected at once, its state recorded though no row exists", func(t *testing.T) {
		h := newHarness(t)
		bad := temporal.NewNonRetryableApplicationError("no LastUpdateTimestamp", activities.ErrTypeMalformedCTR, nil)
		h.env.OnActivity(a.RecordCTR, mock.Anything, mock.Anything).Return(activities.RecordCTRResult{}, bad).Once()
		res, err := h.runConv(wf, ref(t0))
		if err != nil || res.State != conversation.Rejected || h.lastState() != conversation.Rejected {
			t.Fatalf("result = %+v, %v, states %v", res, err, h.states)
		}
	})

	t.Run("a recording that never arrives, is empty, is refused by S3 or KMS, or whose location is refused, ends in its named state", func(t *testing.T) {
		cases := map[string]conversation.State{
			activities.ErrTypeRecordingMissing:      conversation.RecordingMissing,
			activities.ErrTypeRecordingEmpty:        conversation.RecordingEmpty,
			activities.ErrTypeRecordingAccessDenied: conversation.RecordingAccessDenied,
			activities.ErrTypeLocationNotAllowed:    conversation.Rejected,
		}
		for typ, want := range cases {
			h := newHarness(t)
			h.env.OnActivity(a.RecordCTR, mock.Anything, mock.Anything).Return(recorded(conversation.Copying, loc), nil)
			h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).
				Return(activities.CopyRecordingResult{}, temporal.NewNonRetryableApplicationError("no", typ, nil)).Once()
			res, err := h.runConv(wf, ref(t0))
			if err != nil || res.State != want {
				t.Fatalf("%s: result = %+v, %v", typ, res, err)
			}
			h.env.AssertActivityNotCalled(t, "EnqueueAnalysis", mock.Anything, mock.Anything)
		}
	})

	t.Run("a step that keeps failing is retried a bounded number of times, then the call is failed with the reason", func(t *testing.T) {
		h := newHarness(t)
		calls := 0
		h.env.OnActivity(a.RecordCTR, mock.Anything, mock.Anything).Return(func(context.Context, activities.RecordCTRInput) (activities.RecordCTRResult, error) {
			calls++
			return activities.RecordCTRResult{}, errors.New("connection refused")
		})
		res, err := h.runConv(wf, ref(t0))
		if err == nil || res.State != "" && res.State != conversation.Failed {
			t.Fatalf("result = %+v, %v; want the run failed", res, err)
		}
		if calls != 10 {
			t.Fatalf("RecordCTR ran %d times, want 10", calls)
		}
		if h.lastState() != conversation.Failed || !strings.Contains(h.details[len(h.details)-1], "connection refused") {
			t.Fatalf("states %v, details %q", h.states, h.details)
		}
	})

	t.Run("versions that arrive meanwhile are taken up, newest only, each by reference", func(t *testing.T) {
		h := newHarness(t)
		var seen []time.Time
		h.env.OnActivity(a.RecordCTR, mock.Anything, mock.Anything).After(time.Second).Return(func(_ context.Context, in activities.RecordCTRInput) (activities.RecordCTRResult, error) {
			if in.Ref.SHA256 != ref(in.Ref.LastUpdateTimestamp).SHA256 || in.Ref.TenantID != "acme" || in.Ref.ContactID != "c-1" {
				t.Errorf("record step got ref %+v", in.Ref)
			}
			seen = append(seen, in.Ref.LastUpdateTimestamp)
			return recorded(conversation.NoRecording), nil
		})
		res, err := h.runConv(wf, ref(t0), ref(t0.Add(time.Hour)), ref(t0.Add(time.Minute)))
		if err != nil || res.Versions != 2 || len(seen) != 2 || !seen[0].Equal(t0) || !seen[1].Equal(t0.Add(time.Hour)) {
			t.Fatalf("versions = %d, processed %v, %v; want t0 then t0+1h", res.Versions, seen, err)
		}
	})

	t.Run("a cancel during a copy stops it, discards what it left, and records cancelled with the reason", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.RecordCTR, mock.Anything, mock.Anything).Return(recorded(conversation.Copying, loc), nil)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ activities.CopyRecordingInput) (activities.CopyRecordingResult, error) {
			h.env.SignalWorkflow(workflows.CancelReasonSignal, workflows.CancelReason{Reason: "customer withdrew consent"})
			h.env.CancelWorkflow()
			<-ctx.Done()
			return activities.CopyRecordingResult{}, ctx.Err()
		})
		var discarded []string
		h.env.OnActivity(a.DiscardPartialCopy, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DiscardPartialCopyInput) (activities.DiscardPartialCopyResult, error) {
			discarded = append(discarded, in.Copy.Location)
			return activities.DiscardPartialCopyResult{}, nil
		})
		_, err := h.runConv(wf, ref(t0))
		if !temporal.IsCanceledError(err) {
			t.Fatalf("workflow error = %v, want cancelled", err)
		}
		if len(discarded) != 1 || discarded[0] != loc {
			t.Fatalf("discarded %v, want the copy in flight", discarded)
		}
		if h.lastState() != conversation.Cancelled || h.details[len(h.details)-1] != "customer withdrew consent" {
			t.Fatalf("states %v, details %q", h.states, h.details)
		}
		h.env.AssertActivityNotCalled(t, "EnqueueAnalysis", mock.Anything, mock.Anything)
	})
}
