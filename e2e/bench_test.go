package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/minio/minio-go/v7"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/internal/testkit/wav"
	"github.com/connectingest/connect-ingest/workflows"
)

// bench is a running system with one tenant whose recordings are on the S3
// stand-in.
type bench struct {
	*system
	tenant e2eTenant
	s3     *minio.Client
}

func newBench(b *testing.B) *bench {
	s := startSystem(b)
	s3 := testenv.S3StandIn(b)
	tn := newTenant(testenv.Bucket(b, s3, "bench-rec"))
	s.addTenant(tn)
	return &bench{system: s, tenant: tn, s3: s3}
}

// upload streams a generated recording of the given size into S3.
func (x *bench) upload(b *testing.B, key string, bytes int64) {
	seconds := float64(bytes-44) / (wav.Rate * 4)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(wav.Write(pw, seconds, 1)) }()
	if _, err := x.s3.PutObject(context.Background(), x.tenant.Bucket, key, pr, wav.Size(seconds), minio.PutObjectOptions{}); err != nil {
		b.Fatal(err)
	}
}

// post delivers CTRs to the gateway as Firehose does, retrying a 503 (the
// tenant's deliveries in flight at their bound) after a pause.
func (x *bench) post(b *testing.B, records [][]byte) {
	id := "bench-" + testenv.Suffix()
	body := firehose.EncodeRequest(id, time.Now().UnixMilli(), records)
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequest(http.MethodPost, "http://"+x.gateway+"/firehose", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set(firehose.HeaderRequestID, id)
		req.Header.Set(firehose.HeaderAccessKey, x.tenant.AccessKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return
		case resp.StatusCode == http.StatusServiceUnavailable && attempt < 100:
			time.Sleep(100 * time.Millisecond)
		default:
			b.Fatalf("gateway answered %d", resp.StatusCode)
		}
	}
}

func (x *bench) ctr(contactID, key string) []byte {
	return ctrtest.Sample(ctrtest.Options{ContactID: contactID, InstanceARN: x.tenant.InstanceARN, LastUpdate: time.Now().UTC(),
		AgentUsername: "jdoe", RecordingLocation: x.tenant.Bucket + "/" + key})
}

// waitEnqueued waits until n conversations of the tenant whose contact ID
// starts with prefix are enqueued.
func (x *bench) waitEnqueued(b *testing.B, prefix string, n int) {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var got int
		if err := x.pool.QueryRow(context.Background(), `SELECT count(*) FROM conversations
			WHERE tenant_id = $1 AND state = $2 AND starts_with(contact_id, $3)`,
			x.tenant.ID, conversation.Enqueued, prefix).Scan(&got); err != nil {
			b.Fatal(err)
		}
		if got >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("%d conversations not enqueued within 5 minutes", n)
}

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// BenchmarkRecordingMemory measures how much the worker's peak RSS grows
// between copying a 1 MB and a 512 MB recording: the copy streams, so it
// must not grow with the recording. Run it with -benchtime=1x.
func BenchmarkRecordingMemory(b *testing.B) {
	x := newBench(b)
	pid := x.procs["worker"].Process.Pid
	x.upload(b, "small.wav", 1<<20)
	x.upload(b, "large.wav", 512<<20)
	b.ResetTimer()
	var growth int64
	for i := range b.N {
		prefix := fmt.Sprintf("mem-%d-%d-", b.N, i)
		x.post(b, [][]byte{x.ctr(prefix+"small", "small.wav")})
		x.waitEnqueued(b, prefix, 1)
		small := peakRSS(b, pid)
		x.post(b, [][]byte{x.ctr(prefix+"large", "large.wav")})
		x.waitEnqueued(b, prefix, 2)
		growth = max(growth, peakRSS(b, pid)-small)
		b.ReportMetric(float64(small)/(1<<20), "rss-after-1MB-MB")
	}
	b.ReportMetric(float64(growth)/(1<<20), "rss-growth-MB")
}

// benchConversations is how many conversations each op of
// BenchmarkEndToEnd carries.
const benchConversations = 50

// BenchmarkEndToEnd measures conversations per second from the Firehose post
// to the analysis enqueue, voice calls with their 1 MB recordings present,
// against two baselines on the same Temporal server, each op running all
// three back to back: the engine's own limit, an empty workflow started by
// signal-with-start (empty), and a bare workflow of six no-op activities,
// the first pipeline's shape (bare), both started through the task queue.
// The pipeline starts up to WORKER_EAGER_STARTS of its conversations at a
// time eagerly (see workflows.Deliver) and the rest through the task queue.
// Each run reports the ratios (vs-empty, vs-bare) and the size of one voice
// conversation's whole history.
func BenchmarkEndToEnd(b *testing.B) {
	x := newBench(b)
	x.upload(b, "one-mb.wav", 1<<20)
	base := newBaseline(b)
	prefix := fmt.Sprintf("e2e-%s-", testenv.Suffix())

	var pipeline, empty, bare time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		records := make([][]byte, benchConversations)
		for j := range records {
			records[j] = x.ctr(fmt.Sprintf("%s%d-%d", prefix, i, j), "one-mb.wav")
		}
		x.post(b, records)
		x.waitEnqueued(b, prefix, (i+1)*benchConversations)
		pipeline += time.Since(start)

		start = time.Now()
		base.run(b, func(ctx context.Context, id string) (client.WorkflowRun, error) {
			return base.client.SignalWithStartWorkflow(ctx, id, "go", nil, client.StartWorkflowOptions{ID: id, TaskQueue: base.queue}, emptyWorkflow)
		}, i)
		empty += time.Since(start)

		start = time.Now()
		base.runBare(b, i)
		bare += time.Since(start)
	}
	n := float64(b.N * benchConversations)
	rate := n / pipeline.Seconds()
	b.ReportMetric(rate, "conversations/s")
	b.ReportMetric(n/empty.Seconds(), "empty-conversations/s")
	b.ReportMetric(n/bare.Seconds(), "bare-conversations/s")
	b.ReportMetric(empty.Seconds()/pipeline.Seconds(), "vs-empty")
	b.ReportMetric(bare.Seconds()/pipeline.Seconds(), "vs-bare")
	b.ReportMetric(float64(historyBytes(b, base.client, workflows.ConversationWorkflowID(x.tenant.ID, prefix+"0-0"))), "history-bytes")
}

// baseline runs the baselines' workflows on a worker and task queue of
// their own, on the same Temporal server as the pipeline.
type baseline struct {
	client client.Client
	queue  string
}

func newBaseline(b *testing.B) *baseline {
	tc, err := temporalx.Dial(context.Background(), testenv.Config(b), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tc.Close)
	queue := "bench-base-" + testenv.Suffix()
	w := worker.New(tc, queue, worker.Options{})
	w.RegisterWorkflow(bareWorkflow)
	w.RegisterWorkflow(emptyWorkflow)
	w.RegisterActivity(noop)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	return &baseline{client: tc, queue: queue}
}

// run starts benchConversations workflows with start and waits for all.
func (x *baseline) run(b *testing.B, start func(context.Context, string) (client.WorkflowRun, error), op int) {
	x.runN(b, benchConversations, start, op)
}

// runN starts n workflows with start and waits for all.
func (x *baseline) runN(b *testing.B, n int, start func(context.Context, string) (client.WorkflowRun, error), op int) {
	var wg sync.WaitGroup
	for j := range n {
		run, err := start(context.Background(), fmt.Sprintf("base-%s-%s-%d-%d", x.queue, testenv.Suffix(), op, j))
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			if err := run.Get(context.Background(), nil); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
}

// runBare runs benchConversations bare six-activity workflows.
func (x *baseline) runBare(b *testing.B, op int) {
	x.run(b, func(ctx context.Context, id string) (client.WorkflowRun, error) {
		return x.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: x.queue}, bareWorkflow)
	}, op)
}

// historyBytes is the size of a workflow's whole history, as the server
// stores it (protobuf).
func historyBytes(b *testing.B, tc client.Client, workflowID string) int {
	var h historypb.History
	it := tc.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			b.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return proto.Size(&h)
}

// bareWorkflow runs as many activities as the first conversation pipeline
// did, doing nothing.
func bareWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range 6 {
		if err := workflow.ExecuteActivity(ctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	if !workflow.IsReplaying(ctx) {
		bareFinished.Add(1)
	}
	return nil
}

// bareFinished counts the bare workflows this process's baseline worker has
// finished, as the worker finishes them: the moment the mix's conversations
// count theirs (the state written to Postgres), without a waiter per
// workflow loading the server.
var bareFinished atomic.Int64

// emptyWorkflow takes the signal it was started with and completes: the
// least a conversation workflow can cost.
func emptyWorkflow(ctx workflow.Context) error {
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	return nil
}

func noop(context.Context) error { return nil }
