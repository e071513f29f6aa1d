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
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/internal/testkit/wav"
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

// post delivers CTRs to the gateway as Firehose does.
func (x *bench) post(b *testing.B, records [][]byte) {
	id := "bench-" + testenv.Suffix()
	req, err := http.NewRequest(http.MethodPost, "http://"+x.gateway+"/firehose", bytes.NewReader(firehose.EncodeRequest(id, time.Now().UnixMilli(), records)))
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
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("gateway answered %d", resp.StatusCode)
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
// to the analysis enqueue, with 1 MB recordings ("pipeline"), against a bare
// workflow running as many no-op activities as a conversation runs (six) on
// the same Temporal server ("bare"). make bench reports pipeline/bare.
func BenchmarkEndToEnd(b *testing.B) {
	x := newBench(b)
	x.upload(b, "one-mb.wav", 1<<20)

	b.Run("pipeline", func(b *testing.B) {
		prefix := fmt.Sprintf("e2e-%s-", testenv.Suffix())
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			records := make([][]byte, benchConversations)
			for j := range records {
				records[j] = x.ctr(fmt.Sprintf("%s%d-%d", prefix, i, j), "one-mb.wav")
			}
			x.post(b, records)
			x.waitEnqueued(b, prefix, (i+1)*benchConversations)
		}
		b.ReportMetric(float64(b.N*benchConversations)/time.Since(start).Seconds(), "conversations/s")
	})

	b.Run("bare", func(b *testing.B) {
		tc, err := temporalx.Dial(context.Background(), testenv.Config(b), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		defer tc.Close()
		queue := "bench-bare-" + testenv.Suffix()
		w := worker.New(tc, queue, worker.Options{})
		w.RegisterWorkflow(bareWorkflow)
		w.RegisterActivity(noop)
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		defer w.Stop()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			var wg sync.WaitGroup
			for j := range benchConversations {
				run, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
					ID: fmt.Sprintf("bare-%s-%d-%d", queue, i, j), TaskQueue: queue,
				}, bareWorkflow)
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
		b.ReportMetric(float64(b.N*benchConversations)/time.Since(start).Seconds(), "conversations/s")
	})
}

// bareWorkflow runs as many activities as a conversation does, doing
// nothing: the floor that Temporal itself sets.
func bareWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range 6 {
		if err := workflow.ExecuteActivity(ctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noop(context.Context) error { return nil }
