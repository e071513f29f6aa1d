package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// scaleConversations is how many voice calls each system of
// BenchmarkScaleOut takes per run.
const scaleConversations = 200

// temporalMetricsURL is where the stack's Temporal serves its Prometheus
// metrics (scripts/env.sh, TEMPORAL_METRICS_PORT).
const temporalMetricsURL = "http://127.0.0.1:7244/metrics"

// BenchmarkScaleOut measures, on whatever Temporal the stack runs (`make
// bench TEMPORAL=postgres` for the full server on PostgreSQL), voice calls
// per second end to end with one worker and with three on one task queue,
// back to back in each run, and the server's raw rate for an empty workflow
// started by signal-with-start as the limit. Each run also reports what one
// conversation costs: the persisted actions the server counts (its `action`
// metric, what Temporal Cloud bills) and the CPU time of each component, the
// figures docs/SCALING.md sizes a deployment with. Run it with -benchtime=1x.
func BenchmarkScaleOut(b *testing.B) {
	one := newBenchWith(b, systemOptions{})
	three := newBenchWith(b, systemOptions{workers: 3})
	for _, x := range []*bench{one, three} {
		x.upload(b, "one-mb.wav", 1<<20)
	}
	base := newBaseline(b)
	temporalPID := stackPID(b, "temporal")

	var r scaleRun
	b.ResetTimer()
	for i := range b.N {
		r = scaleRun{}
		for _, side := range []struct {
			x    *bench
			rate *float64
		}{{one, &r.one}, {three, &r.three}} {
			prefix := fmt.Sprintf("scale-%s-%d-", testenv.Suffix(), i)
			cpu := side.x.cpuSample(b, temporalPID)
			actions := temporalActions(b)
			start := time.Now()
			for j := 0; j < scaleConversations; j += benchConversations {
				records := make([][]byte, 0, benchConversations)
				for k := j; k < min(j+benchConversations, scaleConversations); k++ {
					records = append(records, side.x.ctr(fmt.Sprintf("%s%d", prefix, k), "one-mb.wav"))
				}
				side.x.post(b, records)
			}
			side.x.waitEnqueued(b, prefix, scaleConversations)
			*side.rate = scaleConversations / time.Since(start).Seconds()
			if side.x == one {
				// A conversation is enqueued inside its last workflow
				// task, before the task's completion reaches the server:
				// its actions are counted once no run is open.
				testenv.WaitSettled(b, side.x.health, 0, side.x.tenant.ID)
				// One worker's conversations cost what they cost on any
				// number of workers; the single worker is measured alone.
				r.actions = (temporalActions(b) - actions) / scaleConversations
				r.cpu = side.x.cpuSample(b, temporalPID).minus(cpu).per(scaleConversations)
			}
		}
		start := time.Now()
		base.runN(b, scaleConversations, func(ctx context.Context, id string) (client.WorkflowRun, error) {
			return base.client.SignalWithStartWorkflow(ctx, id, "go", nil, client.StartWorkflowOptions{ID: id, TaskQueue: base.queue}, emptyWorkflow)
		}, i)
		r.empty = scaleConversations / time.Since(start).Seconds()
	}
	b.ReportMetric(r.one, "conversations/s-1-worker")
	b.ReportMetric(r.three, "conversations/s-3-workers")
	b.ReportMetric(r.three/r.one, "3-vs-1-worker")
	b.ReportMetric(r.empty, "empty-conversations/s")
	b.ReportMetric(r.three/r.empty, "3-workers-vs-empty")
	b.ReportMetric(r.actions, "actions/conversation")
	b.ReportMetric(r.cpu.worker, "worker-cpu-ms/conversation")
	b.ReportMetric(r.cpu.gateway, "gateway-cpu-ms/conversation")
	b.ReportMetric(r.cpu.temporal, "temporal-cpu-ms/conversation")
	b.ReportMetric(r.cpu.postgres, "postgres-cpu-ms/conversation")
	b.ReportMetric(r.cpu.rabbitmq, "rabbitmq-cpu-ms/conversation")
}

// scaleRun is one run of BenchmarkScaleOut.
type scaleRun struct {
	one, three, empty, actions float64
	cpu                        cpuTimes
}

// newBenchWith is newBench on a system of the given shape.
func newBenchWith(b *testing.B, o systemOptions) *bench {
	s := startSystemWith(b, o)
	s3 := testenv.S3StandIn(b)
	tn := newTenant(testenv.Bucket(b, s3, "bench-rec"))
	s.addTenant(tn)
	return &bench{system: s, tenant: tn, s3: s3}
}

// cpuTimes are CPU milliseconds (user and system) by component.
type cpuTimes struct {
	worker, gateway, temporal, postgres, rabbitmq float64
}

func (c cpuTimes) minus(o cpuTimes) cpuTimes {
	return cpuTimes{c.worker - o.worker, c.gateway - o.gateway, c.temporal - o.temporal, c.postgres - o.postgres, c.rabbitmq - o.rabbitmq}
}

func (c cpuTimes) per(n float64) cpuTimes {
	return cpuTimes{c.worker / n, c.gateway / n, c.temporal / n, c.postgres / n, c.rabbitmq / n}
}

// cpuSample reads the CPU time the system's workers and gateways, the
// stack's Temporal, and every PostgreSQL and RabbitMQ process have used.
// PostgreSQL's includes the Temporal server's persistence when it runs on
// PostgreSQL.
func (x *bench) cpuSample(b *testing.B, temporalPID int) cpuTimes {
	var c cpuTimes
	for name, cmd := range x.procs {
		ms := procCPU(cmd.Process.Pid)
		switch x.specs[name].program {
		case "worker":
			c.worker += ms
		case "gateway":
			c.gateway += ms
		}
	}
	c.temporal = procCPU(temporalPID)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		switch strings.TrimSpace(string(comm)) {
		case "postgres":
			c.postgres += procCPU(pid)
		case "beam.smp":
			c.rabbitmq += procCPU(pid)
		}
	}
	return c
}

// procCPU is a process's user and system CPU time in milliseconds, or 0
// for a process gone.
func procCPU(pid int) float64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command's closing parenthesis; utime and stime
	// are the 14th and 15th of the whole line, in clock ticks (100 a
	// second on Linux).
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) * 10
}

// temporalActions sums the Temporal server's `action` counter over the
// default namespace: every start, signal, command and heartbeat it counts
// as an action, markers of one workflow task counted once, as Temporal
// Cloud counts them.
func temporalActions(b *testing.B) float64 {
	resp, err := http.Get(temporalMetricsURL)
	if err != nil {
		b.Fatalf("Temporal's metrics (make stack serves them on %s): %v", temporalMetricsURL, err)
	}
	defer resp.Body.Close()
	var total float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "action{") && !strings.HasPrefix(line, "action_total{") {
			continue
		}
		if !strings.Contains(line, `namespace="default"`) || strings.Contains(line, `action_type="command_RecordMarker`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			b.Fatalf("metric line %q: %v", line, err)
		}
		total += v
		found = true
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	if !found {
		b.Fatalf("no action counter among Temporal's metrics at %s", temporalMetricsURL)
	}
	return total
}
