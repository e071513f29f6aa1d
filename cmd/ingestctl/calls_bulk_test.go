package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
)

func TestCallsBulkRetry(t *testing.T) {
	_, dsn := testenv.Database(t)
	tc := testenv.Temporal(t)
	// Conversations on a task queue no worker polls: they stay running,
	// which is all a retry needs to find and wake them.
	queue := "idle-" + testenv.Suffix()
	env := map[string]string{"DATABASE_URL": dsn, "TEMPORAL_TASK_QUEUE": queue}
	a, b := "bulk-a-"+testenv.Suffix(), "bulk-b-"+testenv.Suffix()
	start := func(tenant string, n int) []string {
		var ids []string
		for i := range n {
			contact := "c-" + string(rune('a'+i))
			_, err := workflows.Deliver(t.Context(), tc, workflows.Delivery{TenantID: tenant, ContactID: contact, TaskQueue: queue,
				Version: workflows.CTRVersion{LastUpdateTimestamp: time.Now(), CTR: json.RawMessage(`{}`)}})
			if err != nil {
				t.Fatal(err)
			}
			id := workflows.ConversationWorkflowID(tenant, contact)
			ids = append(ids, id)
			t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), id, "", "test over") })
		}
		return ids
	}
	inA, inB := start(a, 11), start(b, 2)
	retried := func(id string) bool {
		it := tc.GetWorkflowHistory(t.Context(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if s := ev.GetWorkflowExecutionSignaledEventAttributes(); s != nil && s.GetSignalName() == workflows.RetrySignal {
				return true
			}
		}
		return false
	}
	run := func(args ...string) (string, error) {
		var out, errOut strings.Builder
		err := run(t.Context(), args, testenv.Getenv(env), &out, &errOut)
		return out.String(), err
	}
	// Visibility is eventually consistent: wait until the search sees them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := run("calls", "list", "--tenant", a, "--older-than", "1ns", "--json")
		var got []operations.View
		if err == nil && json.Unmarshal([]byte(out), &got) == nil && len(got) == 11 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the search never listed the 11 calls: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Run("--dry-run lists what the filter selects and touches nothing", func(t *testing.T) {
		out, err := run("calls", "retry", "--tenant", a, "--older-than", "1ns", "--dry-run")
		if err != nil || !strings.Contains(out, "would retry 11 calls") {
			t.Fatalf("out %s, err %v", out, err)
		}
		for _, id := range inA {
			if retried(id) {
				t.Fatalf("%s was retried by a dry run", id)
			}
		}
	})

	t.Run("more than ten calls are not touched without confirmation", func(t *testing.T) {
		if _, err := run("calls", "retry", "--tenant", a, "--older-than", "1ns"); err == nil || !strings.Contains(err.Error(), "not confirmed") {
			t.Fatalf("err = %v", err)
		}
		if retried(inA[0]) {
			t.Fatal("a call was retried without confirmation")
		}
	})

	t.Run("with --yes, a filtered retry touches exactly the calls that match", func(t *testing.T) {
		out, err := run("calls", "retry", "--tenant", a, "--older-than", "1ns", "--yes")
		if err != nil || !strings.Contains(out, "retry: 11 done, 0 failed") {
			t.Fatalf("out %s, err %v", out, err)
		}
		for _, id := range inA {
			if !retried(id) {
				t.Errorf("%s matched the filter but was not retried", id)
			}
		}
		for _, id := range inB {
			if retried(id) {
				t.Errorf("%s of another tenant was retried", id)
			}
		}
	})

	t.Run("retry and cancel refuse both a call and a filter, and neither", func(t *testing.T) {
		if _, err := run("calls", "retry", b, "c-a", "--tenant", b); err == nil {
			t.Error("retry accepted a call and a filter")
		}
		if _, err := run("calls", "retry"); err == nil {
			t.Error("retry accepted no call and no filter")
		}
		if _, err := run("calls", "cancel", b, "c-a"); err == nil || !strings.Contains(err.Error(), "--reason") {
			t.Errorf("cancel without a reason: err = %v", err)
		}
	})
}
