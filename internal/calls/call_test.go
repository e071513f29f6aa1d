package calls_test

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/calls"
	"github.com/connectingest/connect-ingest/internal/store"
)

func TestCallState(t *testing.T) {
	stored := &store.Conversation{State: store.StateWaitingRecording}
	cases := []struct {
		name string
		call calls.Call
		want string
	}{
		{"a stored conversation says its own state", calls.Call{Conversation: stored, Workflow: &calls.Workflow{Status: "Failed"}}, store.StateWaitingRecording},
		{"a running workflow without a row has only received its CTR", calls.Call{Workflow: &calls.Workflow{Status: "Running"}}, store.StateReceived},
		{"a completed run without a row rejected a malformed CTR", calls.Call{Workflow: &calls.Workflow{Status: "Completed"}}, store.StateRejected},
		{"a cancelled run without a row is cancelled", calls.Call{Workflow: &calls.Workflow{Status: "Canceled"}}, store.StateCancelled},
		{"a terminated run without a row failed", calls.Call{Workflow: &calls.Workflow{Status: "Terminated"}}, store.StateFailed},
	}
	for _, c := range cases {
		if got := c.call.State(); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
