package calls_test

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/calls"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
)

func TestCallState(t *testing.T) {
	stored := &store.Conversation{State: conversation.WaitingRecording}
	cases := []struct {
		name string
		call calls.Call
		want conversation.State
	}{
		{"a stored conversation says its own state", calls.Call{Conversation: stored, Workflow: &calls.Workflow{Status: "Failed"}}, conversation.WaitingRecording},
		{"a running workflow without a row has only received its CTR", calls.Call{Workflow: &calls.Workflow{Status: "Running"}}, conversation.Received},
		{"a completed run without a row rejected a malformed CTR", calls.Call{Workflow: &calls.Workflow{Status: "Completed"}}, conversation.Rejected},
		{"a cancelled run without a row is cancelled", calls.Call{Workflow: &calls.Workflow{Status: "Canceled"}}, conversation.Cancelled},
		{"a terminated run without a row failed", calls.Call{Workflow: &calls.Workflow{Status: "Terminated"}}, conversation.Failed},
	}
	for _, c := range cases {
		if got := c.call.State(); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
