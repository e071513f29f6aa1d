package activities

import (
	"reflect"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
)

func TestDecide(t *testing.T) {
	now := time.Now()
	voice := func(locs ...string) NormalizeCTRResult {
		n := NormalizeCTRResult{Conversation: store.Conversation{Channel: "VOICE", AgentUsername: "jdoe"}, Analysable: len(locs) > 0}
		for _, l := range locs {
			n.Recordings = append(n.Recordings, RecordingRef{Location: l})
			n.Listed = append(n.Listed, l)
		}
		if len(locs) == 0 {
			n.NoAudioReason = "no recording"
		}
		return n
	}
	copied := func(loc string) store.Recording { return store.Recording{SourceLocation: loc, CopiedAt: &now} }
	removed := func(loc string) store.Recording {
		return store.Recording{SourceLocation: loc, CopiedAt: &now, DeletedAt: &now, DeletionReason: "gone"}
	}
	deleted := func(n NormalizeCTRResult, loc, reason string) NormalizeCTRResult {
		n.Listed = append(n.Listed, loc)
		n.Deleted = map[string]string{loc: reason}
		return n
	}
	enqueued := store.Conversation{AnalysisEnqueuedAt: &now}
	unlisted := func(n NormalizeCTRResult, reason string) NormalizeCTRResult {
		n.DeletedUnlisted = reason
		return n
	}
	cases := []struct {
		name     string
		norm     NormalizeCTRResult
		stored   store.Conversation
		recs     []store.Recording
		want     conversation.State
		toCopy   int
		toRemove []RemovedRecording
	}{
		{"a new voice call copies its recording", voice("b/a.wav"), store.Conversation{}, nil, conversation.Copying, 1, nil},
		{"only recordings not copied yet are copied", voice("b/a.wav", "b/b.wav"), store.Conversation{}, []store.Recording{copied("b/a.wav")}, conversation.Copying, 1, nil},
		{"every recording copied but not enqueued: stored, ready to enqueue", voice("b/a.wav"), store.Conversation{}, []store.Recording{copied("b/a.wav")}, conversation.Stored, 0, nil},
		{"an update of an analysed call with nothing new stays enqueued", voice("b/a.wav"), enqueued, []store.Recording{copied("b/a.wav")}, conversation.Enqueued, 0, nil},
		{"an update that no longer lists the copied recording removes it", voice(), enqueued, []store.Recording{copied("b/a.wav")}, conversation.NoRecording, 0,
			[]RemovedRecording{{Location: "b/a.wav", Reason: "no longer listed in the contact's CTR"}}},
		{"a recording Connect deleted is removed with Connect's reason", deleted(voice(), "b/a.wav", "CUSTOMER_REQUEST"), enqueued, []store.Recording{copied("b/a.wav")}, conversation.NoRecording, 0,
			[]RemovedRecording{{Location: "b/a.wav", Reason: "CUSTOMER_REQUEST"}}},
		{"a deleted recording that names no location gives its reason to the unlisted copy", unlisted(voice(), "AGENT_REQUEST"), enqueued, []store.Recording{copied("b/a.wav")}, conversation.NoRecording, 0,
			[]RemovedRecording{{Location: "b/a.wav", Reason: "AGENT_REQUEST"}}},
		{"one of two recordings deleted: the other stays, the call stays enqueued", deleted(voice("b/b.wav"), "b/a.wav", "RETENTION"), enqueued, []store.Recording{copied("b/a.wav"), copied("b/b.wav")}, conversation.Enqueued, 0,
			[]RemovedRecording{{Location: "b/a.wav", Reason: "RETENTION"}}},
		{"a copy removed before is not removed again, nor copied again", voice("b/a.wav"), enqueued, []store.Recording{removed("b/a.wav")}, conversation.Enqueued, 0, nil},
		{"a recording deleted before it was copied is not copied", deleted(voice(), "b/a.wav", "X"), store.Conversation{}, nil, conversation.NoRecording, 0, nil},
		{"an update of an analysed call with a new recording copies it", voice("b/a.wav", "b/c.wav"), enqueued, []store.Recording{copied("b/a.wav")}, conversation.Copying, 1, nil},
		{"a contact without audio is no_recording", voice(), store.Conversation{}, nil, conversation.NoRecording, 0, nil},
		{"a recording listed but not copied (its row only) is copied", voice("b/a.wav"), store.Conversation{}, []store.Recording{{SourceLocation: "b/a.wav"}}, conversation.Copying, 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decide(c.norm, c.stored, c.recs)
			if got.State != c.want || len(got.ToCopy) != c.toCopy {
				t.Fatalf("decide = %s with %d to copy, want %s with %d", got.State, len(got.ToCopy), c.want, c.toCopy)
			}
			if c.toRemove != nil && !reflect.DeepEqual(got.ToRemove, c.toRemove) {
				t.Fatalf("to remove %+v, want %+v", got.ToRemove, c.toRemove)
			}
			if c.toRemove == nil && len(got.ToRemove) > 0 {
				t.Fatalf("to remove %+v, want nothing", got.ToRemove)
			}
			if got.Channel != "VOICE" || got.AgentUsername != "jdoe" {
				t.Fatalf("search attribute values lost: %+v", got)
			}
		})
	}
}

func TestNextCheck(t *testing.T) {
	window := 15 * time.Minute
	var waits []time.Duration
	for attempt := int32(1); attempt <= 7; attempt++ {
		waits = append(waits, nextCheck(attempt, window))
	}
	want := []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	if got := nextCheck(6, 40*time.Second); got != 40*time.Second {
		t.Fatalf("near the end of the window: %v, want the 40s left, so the last look falls on its end", got)
	}
	if got := nextCheck(1, 0); got != time.Second {
		t.Fatalf("with nothing left: %v, want a second", got)
	}
}
