package testenv

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/connectingest/connect-ingest/internal/temporalx"
)

// Temporal connects to the stack's Temporal dev server for the rest of the
// test.
func Temporal(tb testing.TB) client.Client {
	tb.Helper()
	c, err := temporalx.Dial(tb.Context(), Config(tb), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatalf("temporal: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// Worker runs a Temporal worker on a task queue of its own until the test
// ends; register adds the workflows and activities under test. It returns
// the task queue.
func Worker(tb testing.TB, c client.Client, register func(worker.Registry)) string {
	tb.Helper()
	queue := "test-" + tb.Name() + "-" + Suffix()
	w := worker.New(c, queue, worker.Options{})
	register(w)
	if err := w.Start(); err != nil {
		tb.Fatalf("start worker: %v", err)
	}
	tb.Cleanup(w.Stop)
	return queue
}

// SaveHistory writes a workflow run's history to
// workflows/testdata/histories/file for the replay test, when the
// UPDATE_HISTORIES environment variable is set: after a change to a
// workflow that is meant to be incompatible, or to add cases.
func SaveHistory(tb testing.TB, c client.Client, workflowID, runID, file string) {
	tb.Helper()
	if os.Getenv("UPDATE_HISTORIES") == "" {
		return
	}
	it := c.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			tb.Fatalf("history of %s: %v", workflowID, err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(RepoRoot(tb), "workflows", "testdata", "histories", file)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("wrote %s (%d events)", path, len(h.Events))
}

// ForgetWorkflow deletes a workflow's runs from Temporal, as the namespace's
// retention does, and waits (up to three minutes: the server deletes in the
// background) until Temporal no longer has them.
func ForgetWorkflow(tb testing.TB, c client.Client, workflowID string) {
	tb.Helper()
	ctx := context.Background()
	_, err := c.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: workflowID},
	})
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		_, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s still in Temporal after 3 minutes (%v)", workflowID, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
