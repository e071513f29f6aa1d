package workflows_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/workflows"
)

var a *activities.Activities

const loc = "acme-rec/connect/acme/CallRecordings/2026/11/24/c-1_20261124T09:24_UTC.wav"

var t0 = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

func version(lu time.Time) workflows.CTRVersion {
	return workflows.CTRVersion{LastUpdateTimestamp: lu, CTR: json.RawMessage(`{"ContactId":"c-1"}`)}
}

func voiceMeta() activities.NormalizeCTRResult {
	return activities.NormalizeCTRResult{
		Conversation: store.Conversation{TenantID: "acme", ContactID: "c-1", Channel: "VOICE", AgentUsername: "jdoe"},
		Recordings:   []activities.RecordingRef{{Location: loc, Participant: "AGENT", MediaType: "AUDIO"}},
		Analysable:   true,
		Day:          t0,
	}
}

// harness is a test workflow environment with every activity registered and
// the ones a test does not set up answering like a healthy system.
type harness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	states  []conversation.State
	details []string
}

func newHarness(t *testing.T) *harness {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	h := &harness{t: t, env: suite.NewTestWorkflowEnvironment()}
	h.env.RegisterWorkflow(workflows.ConversationWorkflowV1)
	h.env.RegisterWorkflow(workflows.ConversationWorkflowV2)
	h.env.RegisterActivity(a)
	h.env.OnActivity(a.SetState, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SetStateInput) error {
		h.states = append(h.states, in.State)
		h.details = append(h.details, in.Detail)
		return nil
	}).Maybe()
	return h
}

func (h *harness) run(versions ...workflows.CTRVersion) workflows.ConversationResult {
	h.t.Helper()
	for i, v := range versions {
		h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.CTRSignal, v) }, time.Duration(i)*time.Millisecond)
	}
	h.env.ExecuteWorkflow(workflows.ConversationWorkflowV1, workflows.ConversationInput{TenantID: "acme", ContactID: "c-1", RecordingWaitWindow: 10 * time.Minute})
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var res workflows.ConversationResult
	if err := h.env.GetWorkflowResult(&res); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	return res
}

func (h *harness) lastState() conversation.State {
	if len(h.states) == 0 {
		return ""
	}
	return h.states[len(h.states)-1]
}

func copied() activities.CopyRecordingResult {
	return activities.CopyRecordingResult{Bucket: "recordings", Key: "acme/2026/11/24/c-1/ab.wav", SizeBytes: 1000, SHA256: "ff"}
}

func TestConversationWorkflowV1(t *testing.T) {
	t.Run("a voice contact is stored, its recording copied, and analysis enqueued once", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil).Once()
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{Updated: true, State: conversation.Received}, nil).Once()
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.MatchedBy(func(in activities.CopyRecordingInput) bool {
			return in.Location == loc && in.TenantID == "acme" && in.Day.Equal(t0)
		})).Return(copied(), nil).Once()
		h.env.OnActivity(a.EnqueueAnalysis, mock.Anything, activities.EnqueueAnalysisInput{TenantID: "acme", ContactID: "c-1"}).Return(activities.EnqueueAnalysisResult{Enqueued: true}, nil).Once()

		res := h.run(version(t0))
		if res.State != conversation.Enqueued || !res.Enqueued || len(res.Recordings) != 1 || res.Recordings[0].Key != copied().Key {
			t.Fatalf("result = %+v", res)
		}
		if want := []conversation.State{conversation.Copying, conversation.Stored}; len(h.states) != 2 || h.states[0] != want[0] || h.states[1] != want[1] {
			t.Fatalf("states = %v, want %v", h.states, want)
		}
		h.env.AssertExpectations(t)
	})

	t.Run("a contact without audio is stored as no_recording and not enqueued", func(t *testing.T) {
		h := newHarness(t)
		meta := voiceMeta()
		meta.Analysable, meta.Recordings, meta.NoAudioReason = false, nil, "channel CHAT has no call audio"
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(meta, nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{Updated: true}, nil)
		res := h.run(version(t0))
		if res.State != conversation.NoRecording || res.Detail != meta.NoAudioReason || h.lastState() != conversation.NoRecording {
			t.Fatalf("result = %+v, states %v", res, h.states)
		}
		h.env.AssertActivityNotCalled(t, "CopyRecording", mock.Anything, mock.Anything)
		h.env.AssertActivityNotCalled(t, "EnqueueAnalysis", mock.Anything, mock.Anything)
	})

	t.Run("an update of a finished conversation stores metadata only", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{Updated: true, Enqueued: true, Copied: []string{loc}}, nil)
		res := h.run(version(t0))
		if res.State != conversation.Enqueued || res.Enqueued {
			t.Fatalf("result = %+v", res)
		}
		h.env.AssertActivityNotCalled(t, "CopyRecording", mock.Anything, mock.Anything)
		h.env.AssertActivityNotCalled(t, "EnqueueAnalysis", mock.Anything, mock.Anything)
	})

	t.Run("an update of a finished conversation that brings a new recording copies it and enqueues again", func(t *testing.T) {
		h := newHarness(t)
		meta := voiceMeta()
		meta.Recordings = append(meta.Recordings, activities.RecordingRef{Location: loc + ".redacted.wav"})
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(meta, nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{Updated: true, Enqueued: true, Copied: []string{loc}}, nil)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.MatchedBy(func(in activities.CopyRecordingInput) bool {
			return in.Location == loc+".redacted.wav"
		})).Return(copied(), nil).Once()
		h.env.OnActivity(a.EnqueueAnalysis, mock.Anything, mock.Anything).Return(activities.EnqueueAnalysisResult{Enqueued: true}, nil).Once()
		if res := h.run(version(t0)); res.State != conversation.Enqueued || !res.Enqueued {
			t.Fatalf("result = %+v", res)
		}
		h.env.AssertExpectations(t)
	})

	t.Run("a recording already copied by an earlier run is not copied again", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{Copied: []string{loc}}, nil)
		h.env.OnActivity(a.EnqueueAnalysis, mock.Anything, mock.Anything).Return(activities.EnqueueAnalysisResult{Enqueued: true}, nil).Once()
		if res := h.run(version(t0)); res.State != conversation.Enqueued {
			t.Fatalf("result = %+v", res)
		}
		h.env.AssertActivityNotCalled(t, "CopyRecording", mock.Anything, mock.Anything)
	})

	t.Run("a late recording is waited for with durable timers, then copied", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{}, nil)
		notYet := temporal.NewNonRetryableApplicationError("not in S3", activities.ErrTypeRecordingNotFound, nil)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(activities.CopyRecordingResult{}, notYet).Twice()
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(copied(), nil).Once()
		h.env.OnActivity(a.EnqueueAnalysis, mock.Anything, mock.Anything).Return(activities.EnqueueAnalysisResult{Enqueued: true}, nil).Once()
		start := h.env.Now()
		res := h.run(version(t0))
		if res.State != conversation.Enqueued {
			t.Fatalf("result = %+v", res)
		}
		// Waits of 15s then 30s passed on the workflow's clock.
		if waited := h.env.Now().Sub(start); waited < 45*time.Second {
			t.Fatalf("waited %v of workflow time, want at least 45s", waited)
		}
		if !slices.Contains(h.states, conversation.WaitingRecording) {
			t.Fatalf("states = %v, want waiting_recording among them", h.states)
		}
	})

	t.Run("a recording that never appears ends recording_missing after the window, not enqueued", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{}, nil)
		notYet := temporal.NewNonRetryableApplicationError("not in S3", activities.ErrTypeRecordingNotFound, nil)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(activities.CopyRecordingResult{}, notYet)
		res := h.run(version(t0))
		if res.State != conversation.RecordingMissing || h.lastState() != conversation.RecordingMissing {
			t.Fatalf("result = %+v, states %v", res, h.states)
		}
		h.env.AssertActivityNotCalled(t, "EnqueueAnalysis", mock.Anything, mock.Anything)
	})

	t.Run("a recording outside the tenant's buckets is rejected without retrying", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{}, nil)
		refused := temporal.NewNonRetryableApplicationError("bucket not allowed", activities.ErrTypeLocationNotAllowed, nil)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(activities.CopyRecordingResult{}, refused).Once()
		res := h.run(version(t0))
		if res.State != conversation.Rejected || h.lastState() != conversation.Rejected {
			t.Fatalf("result = %+v", res)
		}
		h.env.AssertActivityNotCalled(t, "EnqueueAnalysis", mock.Anything, mock.Anything)
	})

	t.Run("a malformed CTR is rejected", func(t *testing.T) {
		h := newHarness(t)
		bad := temporal.NewNonRetryableApplicationError("not_json", activities.ErrTypeMalformedCTR, nil)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(activities.NormalizeCTRResult{}, bad)
		if res := h.run(version(t0)); res.State != conversation.Rejected {
			t.Fatalf("result = %+v", res)
		}
		h.env.AssertActivityNotCalled(t, "StoreConversation", mock.Anything, mock.Anything)
	})

	t.Run("a newer version signalled during the run is processed; an older one is ignored", func(t *testing.T) {
		h := newHarness(t)
		var seen []time.Time
		// Each version takes a second of workflow time, so the later
		// signals arrive while the first is being processed.
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).After(time.Second).Return(func(_ context.Context, in activities.NormalizeCTRInput) (activities.NormalizeCTRResult, error) {
			var v struct{ LU time.Time }
			_ = json.Unmarshal(in.CTR, &v)
			seen = append(seen, v.LU)
			m := voiceMeta()
			m.Analysable, m.Recordings = false, nil
			return m, nil
		})
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{}, nil)
		mk := func(lu time.Time) workflows.CTRVersion {
			return workflows.CTRVersion{LastUpdateTimestamp: lu, CTR: json.RawMessage(`{"LU":"` + lu.Format(time.RFC3339) + `"}`)}
		}
		res := h.run(mk(t0), mk(t0.Add(time.Hour)), mk(t0.Add(time.Minute)))
		// The first version, then only the newest of those that arrived
		// meanwhile; the older one that came last is never processed.
		if res.Versions != 2 || len(seen) != 2 || !seen[0].Equal(t0) || !seen[1].Equal(t0.Add(time.Hour)) {
			t.Fatalf("versions = %d, processed %v; want t0 then t0+1h", res.Versions, seen)
		}
	})
}

func TestConversationWorkflowV1AfterTheClaimCheck(t *testing.T) {
	t.Run("a run of the first version that is signalled a reference passes it on for its activities to read", func(t *testing.T) {
		h := newHarness(t)
		v := workflows.CTRVersion{LastUpdateTimestamp: t0, SHA256: "5ha"}
		want := conversation.CTRRef{TenantID: "acme", ContactID: "c-1", LastUpdateTimestamp: t0, SHA256: "5ha"}
		meta := voiceMeta()
		meta.Analysable, meta.Recordings = false, nil
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, activities.NormalizeCTRInput{TenantID: "acme", Ref: want}).Return(meta, nil).Once()
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.MatchedBy(func(in activities.StoreConversationInput) bool {
			return len(in.CTR) == 0 && in.Ref == want
		})).Return(activities.StoreConversationResult{Updated: true}, nil).Once()
		res := h.run(v)
		if res.State != conversation.NoRecording {
			t.Fatalf("result = %+v", res)
		}
		h.env.AssertExpectations(t)
	})
}

func TestOperatorActionsV1(t *testing.T) {
	t.Run("a retry signal ends the wait for a late recording at once", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{}, nil)
		notYet := temporal.NewNonRetryableApplicationError("not in S3", activities.ErrTypeRecordingNotFound, nil)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(activities.CopyRecordingResult{}, notYet).Once()
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(copied(), nil).Once()
		h.env.OnActivity(a.EnqueueAnalysis, mock.Anything, mock.Anything).Return(activities.EnqueueAnalysisResult{Enqueued: true}, nil).Once()
		h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.RetrySignal, nil) }, 2*time.Second)
		start := h.env.Now()
		res := h.run(version(t0))
		if res.State != conversation.Enqueued {
			t.Fatalf("result = %+v", res)
		}
		// The first wait is 15s; the retry came after 2s.
		if waited := h.env.Now().Sub(start); waited >= 15*time.Second {
			t.Fatalf("waited %v of workflow time: the retry did not cut the wait", waited)
		}
	})

	t.Run("a cancel during a copy stops it, discards what it left, and marks the conversation cancelled with the reason", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{}, nil)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ activities.CopyRecordingInput) (activities.CopyRecordingResult, error) {
			// The operator cancels while the copy runs; it runs until the
			// cancel reaches it.
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
		h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.CTRSignal, version(t0)) }, 0)
		h.env.ExecuteWorkflow(workflows.ConversationWorkflowV1, workflows.ConversationInput{TenantID: "acme", ContactID: "c-1", RecordingWaitWindow: 10 * time.Minute})

		if err := h.env.GetWorkflowError(); !temporal.IsCanceledError(err) {
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

	t.Run("a cancel while waiting for a late recording marks it cancelled and discards nothing", func(t *testing.T) {
		h := newHarness(t)
		h.env.OnActivity(a.NormalizeCTR, mock.Anything, mock.Anything).Return(voiceMeta(), nil)
		h.env.OnActivity(a.StoreConversation, mock.Anything, mock.Anything).Return(activities.StoreConversationResult{}, nil)
		notYet := temporal.NewNonRetryableApplicationError("not in S3", activities.ErrTypeRecordingNotFound, nil)
		h.env.OnActivity(a.CopyRecording, mock.Anything, mock.Anything).Return(activities.CopyRecordingResult{}, notYet)
		h.env.OnActivity(a.DiscardPartialCopy, mock.Anything, mock.Anything).Return(activities.DiscardPartialCopyResult{}, nil)
		h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, time.Minute)
		h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.CTRSignal, version(t0)) }, 0)
		h.env.ExecuteWorkflow(workflows.ConversationWorkflowV1, workflows.ConversationInput{TenantID: "acme", ContactID: "c-1", RecordingWaitWindow: 10 * time.Minute})
		if err := h.env.GetWorkflowError(); !temporal.IsCanceledError(err) {
			t.Fatalf("workflow error = %v, want cancelled", err)
		}
		if h.lastState() != conversation.Cancelled || slices.Contains(h.states, conversation.Failed) {
			t.Fatalf("states = %v", h.states)
		}
		h.env.AssertActivityNotCalled(t, "DiscardPartialCopy", mock.Anything, mock.Anything)
	})
}
