package main

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/workflows"
)

// saveHistories writes the histories of the named conversations' workflows
// for the replay test, when UPDATE_HISTORIES is set (see
// testenv.SaveHistory).
func saveHistories(t *testing.T, tenantID string, names map[string]string) {
	t.Helper()
	c := testenv.Temporal(t)
	for contactID, file := range names {
		testenv.SaveHistory(t, c, workflows.ConversationWorkflowID(tenantID, contactID), "", file)
	}
}
