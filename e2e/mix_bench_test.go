package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// The realistic mix: shares of each kind of contact and CTR.
const (
	mixChats   = 0.15 // chats: no audio
	mixLate    = 0.33 // voice calls whose recording lands 30-90 s after the CTR
	mixResends = 0.20 // CTRs sent again, or updated with a newer version
)

// The mix is offered at a steady rate for mixRun; conversations finished
// within the window from mixWarmUp to mixRun count. The warm-up outlasts
// the latest recording's last look (15 + 30 + 60 s after its CTR), so the
// window sees the mix in steady state, late recordings included.
const (
	mixRun    = 135 * time.Second
	mixWarmUp = 105 * time.Second
)

// The bare baseline is offered the same way, for a window as long; its
// warm-up only has to reach a steady state, which a workflow that never
// waits does within seconds. Its shorter warm-up leaves it a shallower
// backlog than the mix's when the window opens, which favours the baseline.
const (
	bareWarmUp = 30 * time.Second
	bareRun    = bareWarmUp + mixRun - mixWarmUp
)

// BenchmarkMix measures the conversations per second the system sustains
// under a realistic mix, against the bare six-activity workflow sustained
// the same way just before in the same run, and reports their ratio
// (vs-bare). Both are offered open-loop at the same rate and count what
// finishes within a window of the same length: three times the rate of a
// closed-loop burst of bare workflows (10 to 40 a second), so that each
// figure is what its side keeps up with. Run it with -benchtime=1x.
func BenchmarkMix(b *testing.B) {
	x := newBench(b)
	x.upload(b, "mix-on-time.wav", 64<<10)
	base := newBaseline(b)
	var burst, bareRate, got, offered, actions float64
	for i := range b.N {
		start := time.Now()
		base.runBare(b, i)
		burst = float64(benchConversations) / time.Since(start).Seconds()
		offered = min(max(3*burst, 10), 40)
		bareRate = base.runBareOpen(b, offered, i)
		before := temporalActions(b)
		var n int
		got, n = x.runMix(b, offered)
		testenv.WaitSettled(b, x.health, 0, x.tenant.ID) // every run's last task counted
		actions = (temporalActions(b) - before) / float64(n)
	}
	b.ReportMetric(got, "conversations/s")
	b.ReportMetric(bareRate, "bare-conversations/s")
	b.ReportMetric(burst, "bare-burst-conversations/s")
	b.ReportMetric(got/bareRate, "vs-bare")
	b.ReportMetric(offered, "offered/s")
	b.ReportMetric(actions, "actions/conversation")
}

// runBareOpen offers bare workflows at rate a second for bareRun and
// returns those finished per second within the window after bareWarmUp.
// It then terminates the backlog left, so that the mix starts on a quiet
// server.
func (x *baseline) runBareOpen(b *testing.B, rate float64, op int) float64 {
	start := time.Now()
	var atWarmUp int64 = -1
	var starts sync.WaitGroup
	for sec := 0; time.Since(start) < bareRun; sec++ {
		for j := range int(rate) {
			id := fmt.Sprintf("base-open-%s-%s-%d-%d-%d", x.queue, testenv.Suffix(), op, sec, j)
			starts.Go(func() {
				_, err := x.client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: x.queue}, bareWorkflow)
				if err != nil {
					b.Error(err)
				}
			})
		}
		if atWarmUp < 0 && time.Since(start) >= bareWarmUp {
			atWarmUp = bareFinished.Load()
		}
		time.Sleep(time.Until(start.Add(time.Duration(sec+1) * time.Second)))
	}
	windowEnd := time.Since(start)
	done := bareFinished.Load() - atWarmUp
	starts.Wait()
	x.terminateOpen(b)
	x.waitDrained(b)
	return float64(done) / (windowEnd - bareWarmUp).Seconds()
}

// waitDrained waits until the baseline's task queue holds no backlog: the
// tasks of terminated workflows are dropped only as they are dispatched,
// and the mix must not share the server with that.
func (x *baseline) waitDrained(b *testing.B) {
	ctx := context.Background()
	for deadline, quiet := time.Now().Add(5*time.Minute), 0; quiet < 2; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			b.Fatal("the baseline's task queue still holds a backlog after 5 minutes")
		}
		var backlog int64
		for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := x.client.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
				Namespace: testenv.Config(b).Namespace, TaskQueue: &taskqueuepb.TaskQueue{Name: x.queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
				TaskQueueType: typ, ReportStats: true,
			})
			if err != nil {
				b.Fatal(err)
			}
			backlog += resp.GetStats().GetApproximateBacklogCount()
		}
		if backlog == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// terminateOpen terminates every workflow still open on the baseline's
// task queue.
func (x *baseline) terminateOpen(b *testing.B) {
	ctx := context.Background()
	query := fmt.Sprintf(`TaskQueue = %q AND ExecutionStatus = "Running"`, x.queue)
	for deadline := time.Now().Add(5 * time.Minute); ; {
		resp, err := x.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.GetExecutions()) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d baseline workflows still open after terminating for 5 minutes", len(resp.GetExecutions()))
		}
		var wg sync.WaitGroup
		ids := make(chan string)
		for range 8 {
			wg.Go(func() {
				for id := range ids {
					// One that finished meanwhile is gone already; any
					// other failure leaves it open for the next listing.
					_ = x.client.TerminateWorkflow(ctx, id, "", "benchmark window over")
				}
			})
		}
		for _, e := range resp.GetExecutions() {
			ids <- e.GetExecution().GetWorkflowId()
		}
		close(ids)
		wg.Wait()
		time.Sleep(time.Second) // visibility catches up
	}
}

// runMix offers the mix at rate conversations a second for mixRun and
// returns the conversations finished per second within the window, and how
// many conversations it offered. It then waits for the run's conversations
// to finish, so that the next run starts on a quiet system.
func (x *bench) runMix(b *testing.B, rate float64) (float64, int) {
	prefix := fmt.Sprintf("mix-%s-", testenv.Suffix())
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var later sync.WaitGroup
	defer later.Wait()
	after := func(d time.Duration, f func()) {
		later.Add(1)
		time.AfterFunc(d, func() { defer later.Done(); f() })
	}

	start := time.Now()
	var atWarmUp, n int
	for sec := 0; time.Since(start) < mixRun; sec++ {
		var records [][]byte
		for range int(rate) {
			id := fmt.Sprintf("%s%d", prefix, n)
			n++
			o := ctrtest.Options{ContactID: id, InstanceARN: x.tenant.InstanceARN, LastUpdate: time.Now().UTC(), AgentUsername: "jdoe"}
			switch r := rng.Float64(); {
			case r < mixChats:
				o.Channel = "CHAT"
			case r < mixChats+mixLate:
				key := "late/" + id + ".wav"
				o.RecordingLocation = x.tenant.Bucket + "/" + key
				after(30*time.Second+time.Duration(rng.Int64N(int64(60*time.Second))), func() { x.upload(b, key, 64<<10) })
			default:
				o.RecordingLocation = x.tenant.Bucket + "/mix-on-time.wav"
			}
			raw := ctrtest.Sample(o)
			records = append(records, raw)
			if rng.Float64() < mixResends {
				again := raw // Firehose sends it again...
				if rng.IntN(2) == 0 {
					o.LastUpdate = o.LastUpdate.Add(time.Minute) // ...or Connect updates it
					again = ctrtest.Sample(o)
				}
				after(5*time.Second+time.Duration(rng.Int64N(int64(15*time.Second))), func() { x.post(b, [][]byte{again}) })
			}
		}
		x.post(b, records)
		if atWarmUp == 0 && time.Since(start) >= mixWarmUp {
			atWarmUp = x.finished(b, prefix)
		}
		time.Sleep(time.Until(start.Add(time.Duration(sec+1) * time.Second)))
	}
	windowEnd := time.Since(start)
	done := x.finished(b, prefix) - atWarmUp
	later.Wait()
	x.waitFinished(b, prefix, n, 3*time.Minute)
	return float64(done) / (windowEnd - mixWarmUp).Seconds(), n
}

// finished counts the conversations whose ID starts with prefix that have
// reached a final state.
func (x *bench) finished(b *testing.B, prefix string) int {
	var n int
	err := x.pool.QueryRow(context.Background(), `SELECT count(*) FROM conversations
		WHERE tenant_id = $1 AND starts_with(contact_id, $2) AND state = ANY($3)`,
		x.tenant.ID, prefix, []string{string(conversation.Enqueued), string(conversation.NoRecording)}).Scan(&n)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func (x *bench) waitFinished(b *testing.B, prefix string, n int, within time.Duration) {
	for deadline := time.Now().Add(within); x.finished(b, prefix) < n; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d mix conversations finished within %s of the run's end", x.finished(b, prefix), n, within)
		}
	}
}
