package operations_test

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
)

func TestCallState(t *testing.T) {
	stored := &store.Conversation{State: conversation.WaitingRecording}
	cases := []struct {
		name string
		call operations.Call
		want conversation.State
	}{
		{"a stored conversation says its own state", operations.Call{Conversation: stored, Workflow: &operations.Workflow{Status: "Failed"}}, conversation.WaitingRecording},
		{"a running workflow without a row has only received its CTR", operations.Call{Workflow: &operations.Workflow{Status: "Running"}}, conversation.Received},
		{"a completed run without a row rejected a malformed CTR", operations.Call{Workflow: &operations.Workflow{Status: "Completed"}}, conversation.Rejected},
		{"a cancelled run without a row is cancelled", operations.Call{Workflow: &operations.Workflow{Status: "Canceled"}}, conversation.Cancelled},
		{"a terminated run without a row failed", operations.Call{Workflow: &operations.Workflow{Status: "Terminated"}}, conversation.Failed},
	}
	for _, c := range cases {
		if got := c.call.State(); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
