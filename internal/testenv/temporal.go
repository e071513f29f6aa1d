package testenv

import (
	"io"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

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
