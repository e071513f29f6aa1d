package conversation_test

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/conversation"
)

func TestStates(t *testing.T) {
	t.Run("every listed state is valid and an unknown name is not", func(t *testing.T) {
		for _, s := range conversation.States() {
			if !s.Valid() {
				t.Errorf("%s: not valid", s)
			}
		}
		for _, s := range []conversation.State{"", "Enqueued", "done", "enqueued "} {
			if s.Valid() {
				t.Errorf("%q: valid", s)
			}
		}
	})

	t.Run("a conversation is final once its workflow has nothing left to do", func(t *testing.T) {
		final := map[conversation.State]bool{
			conversation.Enqueued: true, conversation.NoRecording: true, conversation.RecordingMissing: true,
			conversation.RecordingEmpty: true, conversation.RecordingAccessDenied: true,
			conversation.Rejected: true, conversation.Failed: true, conversation.Cancelled: true, conversation.Erased: true,
		}
		for _, s := range conversation.States() {
			if s.Final() != final[s] {
				t.Errorf("%s: Final() = %v", s, s.Final())
			}
		}
	})

	t.Run("States returns a copy callers cannot change", func(t *testing.T) {
		conversation.States()[0] = "changed"
		if conversation.States()[0] != conversation.Received {
			t.Fatal("States shares its backing array")
		}
	})
}
