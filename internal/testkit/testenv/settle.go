package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/connectingest/connect-ingest/internal/temporalx"
)

// WaitSettled waits until the worker serving metrics at healthAddr has
// finished with at least delivered CTR messages (handed to Temporal, or
// skipped because their conversation was done with them), and no workflow of
// tenantID is running, two checks in a row. Tests that assert "nothing more
// happened" wait for this instead of sleeping, so they cannot pass merely
// because the worker had not got to the messages yet.
func WaitSettled(tb testing.TB, healthAddr string, delivered int, tenantID string) {
	tb.Helper()
	ctx := context.Background()
	tc, err := temporalx.Dial(ctx, Config(tb), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	defer tc.Close()
	query := fmt.Sprintf("TenantId = '%s' AND ExecutionStatus = 'Running'", tenantID)
	deadline := time.Now().Add(2 * time.Minute)
	quiet := 0
	last := ""
	for quiet < 2 {
		if time.Now().After(deadline) {
			tb.Fatalf("not settled within 2 minutes: %s", last)
		}
		time.Sleep(500 * time.Millisecond)
		got := deliveredCount(tb, healthAddr)
		running, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if err != nil {
			tb.Fatal(err)
		}
		last = fmt.Sprintf("%d of %d CTR messages delivered or skipped, %d workflows running", got, delivered, running.GetCount())
		if got >= delivered && running.GetCount() == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// deliveredCount is how many CTR messages the worker has finished with:
// delivered to Temporal, or skipped as already done.
func deliveredCount(tb testing.TB, healthAddr string) int {
	tb.Helper()
	resp, err := http.Get("http://" + healthAddr + "/metrics")
	if err != nil {
		tb.Fatalf("worker metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	n, found := 0, 0
	for _, line := range strings.Split(string(body), "\n") {
		for _, name := range []string{"worker_ctr_messages_delivered_total ", "worker_ctr_messages_skipped_total "} {
			if v, ok := strings.CutPrefix(line, name); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					tb.Fatal(err)
				}
				n, found = n+int(f), found+1
			}
		}
	}
	if found != 2 {
		tb.Fatal("worker metrics lack worker_ctr_messages_delivered_total or worker_ctr_messages_skipped_total")
	}
	return n
}
