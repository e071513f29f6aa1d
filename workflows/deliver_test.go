package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"path"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"

	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/workflows"
)

// lastVersion marks the version after which conversationProbe completes.
const lastVersion = "last"

// conversationProbe stands in for the conversation workflow under its type
// name, so that these tests see what Deliver hands a run and nothing else:
// it returns the versions it was given, in its input and by signal, once it
// has one marked lastVersion.
func conversationProbe(ctx workflow.Context, in workflows.ConversationInput) ([]workflows.CTRVersion, error) {
	var seen []workflows.CTRVersion
	if in.First != nil {
		seen = append(seen, *in.First)
	}
	signals := workflow.GetSignalChannel(ctx, workflows.CTRSignal)
	for len(seen) == 0 || seen[len(seen)-1].FirehoseRequestID != lastVersion {
		var v workflows.CTRVersion
		signals.Receive(ctx, &v)
		seen = append(seen, v)
	}
	return seen, nil
}

// starts records what the server answered to each StartWorkflowExecution
// a client sent, and counts every call by method.
type starts struct {
	mu    sync.Mutex
	sent  []*workflowservice.StartWorkflowExecutionRequest
	got   []*workflowservice.StartWorkflowExecutionResponse
	calls map[string]int
}

func (s *starts) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	s.mu.Lock()
	s.calls[path.Base(method)]++
	s.mu.Unlock()
	if r, ok := req.(*workflowservice.StartWorkflowExecutionRequest); ok {
		s.mu.Lock()
		s.sent = append(s.sent, r)
		s.got = append(s.got, reply.(*workflowservice.StartWorkflowExecutionResponse))
		s.mu.Unlock()
	}
	return err
}

// count is the number of calls of a method (such as
// "StartWorkflowExecution") sent so far.
func (s *starts) count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// last is the last start sent and its answer.
func (s *starts) last(t *testing.T) (*workflowservice.StartWorkflowExecutionRequest, *workflowservice.StartWorkflowExecutionResponse) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == 0 {
		t.Fatal("no StartWorkflowExecution sent")
	}
	return s.sent[len(s.sent)-1], s.got[len(s.got)-1]
}

// watchedClient connects to the stack's Temporal, recording its starts.
func watchedClient(t *testing.T) (client.Client, *starts) {
	t.Helper()
	opts, err := temporalx.Options(testenv.Config(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := &starts{calls: map[string]int{}}
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(s.intercept))
	c, err := client.DialContext(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, s
}

func delivered(requestID string, lu time.Time) workflows.CTRVersion {
	return workflows.CTRVersion{LastUpdateTimestamp: lu, FirehoseRequestID: requestID, SHA256: "5ha-" + requestID}
}

// signalled counts the signals in a workflow's history.
func signalled(t *testing.T, c client.Client, workflowID string) int {
	t.Helper()
	it := c.GetWorkflowHistory(t.Context(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED {
			n++
		}
	}
	return n
}

func TestDeliver(t *testing.T) {
	workerClient, workerStarts := watchedClient(t)
	// conversationProbe runs under the conversation workflow's type name.
	queue := testenv.Worker(t, workerClient, func(r worker.Registry) {
		r.RegisterWorkflowWithOptions(conversationProbe, workflow.RegisterOptions{Name: workflows.ConversationWorkflowType})
	})
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	deliver := func(c client.Client, contactID string, v workflows.CTRVersion) client.WorkflowRun {
		t.Helper()
		run, err := workflows.Deliver(t.Context(), c, workflows.Delivery{TenantID: "acme", ContactID: contactID, Version: v,
			TaskQueue: queue, WaitWindow: time.Minute})
		if err != nil {
			t.Fatalf("deliver %s: %v", contactID, err)
		}
		return run
	}
	result := func(run client.WorkflowRun) []workflows.CTRVersion {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		var seen []workflows.CTRVersion
		if err := run.Get(ctx, &seen); err != nil {
			t.Fatalf("run %s: %v", run.GetID(), err)
		}
		return seen
	}

	t.Run("from the worker's own client, a new conversation starts with the version in its input, its first task in the start's answer", func(t *testing.T) {
		contact := "c-new-" + testenv.Suffix()
		v := delivered(lastVersion, t0)
		seen := result(deliver(workerClient, contact, v))
		if len(seen) != 1 || !seen[0].LastUpdateTimestamp.Equal(t0) || seen[0].SHA256 != v.SHA256 {
			t.Fatalf("the run was given %+v, want the one version in its input", seen)
		}
		req, resp := workerStarts.last(t)
		if !req.GetRequestEagerExecution() || resp.GetEagerWorkflowTask() == nil {
			t.Fatalf("eager execution requested %v, first task in the answer %v; want both",
				req.GetRequestEagerExecution(), resp.GetEagerWorkflowTask() != nil)
		}
		if n := signalled(t, workerClient, workflows.ConversationWorkflowID("acme", contact)); n != 0 {
			t.Fatalf("%d signals in the history, want none", n)
		}
	})

	t.Run("a version for a conversation whose run is open reaches that run by signal", func(t *testing.T) {
		contact := "c-open-" + testenv.Suffix()
		run := deliver(workerClient, contact, delivered("r1", t0))
		again := deliver(workerClient, contact, delivered(lastVersion, t0.Add(time.Minute)))
		if again.GetRunID() != run.GetRunID() {
			t.Fatalf("the second version started run %s beside the open %s", again.GetRunID(), run.GetRunID())
		}
		seen := result(run)
		if len(seen) != 2 || seen[0].FirehoseRequestID != "r1" || seen[1].FirehoseRequestID != lastVersion {
			t.Fatalf("the run was given %+v, want r1 in its input, then the last by signal", seen)
		}
		if n := signalled(t, workerClient, run.GetID()); n != 1 {
			t.Fatalf("%d signals in the history, want 1", n)
		}
	})

	t.Run("told that a run is open, Deliver signals it without a start the server would refuse", func(t *testing.T) {
		contact := "c-hinted-" + testenv.Suffix()
		run := deliver(workerClient, contact, delivered("r1", t0))
		starts, signals := workerStarts.count("StartWorkflowExecution"), workerStarts.count("SignalWithStartWorkflowExecution")
		again, err := workflows.Deliver(t.Context(), workerClient, workflows.Delivery{TenantID: "acme", ContactID: contact,
			Version: delivered(lastVersion, t0.Add(time.Minute)), TaskQueue: queue, WaitWindow: time.Minute, RunOpen: true})
		if err != nil {
			t.Fatal(err)
		}
		if again.GetRunID() != run.GetRunID() {
			t.Fatalf("the second version started run %s beside the open %s", again.GetRunID(), run.GetRunID())
		}
		if n := workerStarts.count("StartWorkflowExecution") - starts; n != 0 {
			t.Fatalf("%d starts sent, want none", n)
		}
		if n := workerStarts.count("SignalWithStartWorkflowExecution") - signals; n != 1 {
			t.Fatalf("%d signal-with-starts sent, want 1", n)
		}
		if seen := result(run); len(seen) != 2 || seen[1].FirehoseRequestID != lastVersion {
			t.Fatalf("the run was given %+v, want r1, then the last by signal", seen)
		}
	})

	t.Run("a stale hint that a run is open still starts one", func(t *testing.T) {
		contact := "c-stale-" + testenv.Suffix()
		run, err := workflows.Deliver(t.Context(), workerClient, workflows.Delivery{TenantID: "acme", ContactID: contact,
			Version: delivered(lastVersion, t0), TaskQueue: queue, WaitWindow: time.Minute, RunOpen: true})
		if err != nil {
			t.Fatal(err)
		}
		if seen := result(run); len(seen) != 1 || !seen[0].LastUpdateTimestamp.Equal(t0) {
			t.Fatalf("the run was given %+v, want the one version by signal", seen)
		}
	})

	t.Run("a conversation whose run has closed starts afresh", func(t *testing.T) {
		contact := "c-closed-" + testenv.Suffix()
		first := deliver(workerClient, contact, delivered(lastVersion, t0))
		result(first)
		second := deliver(workerClient, contact, delivered(lastVersion, t0.Add(time.Minute)))
		if second.GetRunID() == first.GetRunID() {
			t.Fatal("the version went to the closed run")
		}
		if seen := result(second); len(seen) != 1 || !seen[0].LastUpdateTimestamp.Equal(t0.Add(time.Minute)) {
			t.Fatalf("the new run was given %+v", seen)
		}
	})

	t.Run("from a client with no worker (an operator's), the run starts all the same, through the task queue", func(t *testing.T) {
		operator, operatorStarts := watchedClient(t)
		contact := "c-operator-" + testenv.Suffix()
		if seen := result(deliver(operator, contact, delivered(lastVersion, t0))); len(seen) != 1 {
			t.Fatalf("the run was given %+v", seen)
		}
		if req, _ := operatorStarts.last(t); req.GetRequestEagerExecution() {
			t.Fatal("a client with no worker asked for eager execution")
		}
	})
}
