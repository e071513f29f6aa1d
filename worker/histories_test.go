package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/internal/testenv"
	"github.com/connectingest/connect-ingest/workflows"
)

// saveHistories writes the histories of the named conversations' workflows
// to workflows/testdata/histories, for the replay test, when the
// UPDATE_HISTORIES environment variable is set (after a change of the
// workflow that is meant to be incompatible, or to add cases).
func saveHistories(t *testing.T, tenantID string, names map[string]string) {
	t.Helper()
	if os.Getenv("UPDATE_HISTORIES") == "" {
		return
	}
	ctx := context.Background()
	tc, err := temporalx.Dial(ctx, testenv.Config(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	for contactID, file := range names {
		it := tc.GetWorkflowHistory(ctx, workflows.ConversationWorkflowID(tenantID, contactID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var h historypb.History
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			h.Events = append(h.Events, ev)
		}
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "workflows", "testdata", "histories", file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d events)", path, len(h.Events))
	}
}
