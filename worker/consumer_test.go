package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/workflows"
)

// consumerFixture runs the consumer alone on a fresh queue, with a Temporal
// client behind a proxy the test can cut. No worker polls its task queue:
// the tests look at what reached Temporal, not at what the workflows did.
type consumerFixture struct {
	pool    *pgxpool.Pool
	tenant  string
	queue   string
	proxy   *testenv.Proxy
	broker  *testenv.Proxy
	tc      client.Client
	metrics *workerMetrics
	pub     *queue.Publisher
}

func startConsumer(t *testing.T) *consumerFixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := testenv.Config(t)
	q := testenv.Queues(t)
	broker := testenv.NewProxy(t, "127.0.0.1:5672")
	conn := queue.Dial(testenv.AMQPURLVia(t, broker.Addr()), queue.Topology{CTRQueue: q}, log)
	t.Cleanup(func() { conn.Close() })
	if err := conn.WaitReady(testenv.WithTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The test publishes on a connection of its own, straight to the broker.
	direct := queue.Dial(cfg.AMQPURL, queue.Topology{CTRQueue: q}, log)
	t.Cleanup(func() { direct.Close() })
	if err := direct.WaitReady(testenv.WithTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, cfg.TemporalAddr)
	tcfg := cfg
	tcfg.TemporalAddr = proxy.Addr()
	tc, err := temporalx.Dial(context.Background(), tcfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	pool, _ := testenv.Database(t)
	tenant := storeTenant(t, pool, "acme-rec").ID
	f := &consumerFixture{pool: pool, tenant: tenant, queue: q, proxy: proxy, broker: broker, tc: tc, metrics: newWorkerMetrics(), pub: queue.NewPublisher(direct, 1)}
	t.Cleanup(f.pub.Close)
	c := &consumer{conn: conn, queue: q, prefetch: 4, temporal: tc, taskQueue: "consumer-test-" + testenv.Suffix(),
		waitWindow: time.Minute, log: log, metrics: f.metrics,
		versions: store.NewCTRVersions(pool), quarantine: store.NewQuarantine(pool)}
	testenv.StartProgram(t, c.run)
	return f
}

func (f *consumerFixture) publish(t *testing.T, id string, body []byte) {
	t.Helper()
	msg := queue.Message{ID: id, Type: ctr.EnvelopeType, Body: body, Timestamp: time.Now()}
	if err := f.pub.Publish(testenv.WithTimeout(t, 10*time.Second), f.queue, []queue.Message{msg}); err != nil {
		t.Fatal(err)
	}
}

// recorded stores a conversation of the fixture's tenant as a run would
// have recorded its newest CTR version, in the given state, and returns
// that version's LastUpdateTimestamp.
func (f *consumerFixture) recorded(t *testing.T, contact, state string) time.Time {
	t.Helper()
	lu := time.Now().UTC().Truncate(time.Millisecond)
	_, err := f.pool.Exec(context.Background(), `INSERT INTO conversations (tenant_id, contact_id, last_update_timestamp, state, ctr)
		VALUES ($1, $2, $3, $4, '{}')`, f.tenant, contact, lu, state)
	if err != nil {
		t.Fatal(err)
	}
	return lu
}

func envelope(t *testing.T, tenant, contact string) []byte {
	t.Helper()
	return envelopeAt(t, tenant, contact, time.Now().UTC())
}

func envelopeAt(t *testing.T, tenant, contact string, lu time.Time) []byte {
	t.Helper()
	raw := ctrtest.Sample(ctrtest.Options{ContactID: contact, InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/i", LastUpdate: lu})
	b, err := json.Marshal(ctr.Envelope{TenantID: tenant, ContactID: contact, LastUpdateTimestamp: lu, CTR: raw})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliverNewer records a conversation of the fixture's tenant in state,
// publishes a version of it a minute newer than the recorded one, waits
// until the consumer has delivered that and returns its timestamp.
func (f *consumerFixture) deliverNewer(t *testing.T, contact, state string) time.Time {
	t.Helper()
	newer := f.recorded(t, contact, state).Add(time.Minute)
	delivered := testutil.ToFloat64(f.metrics.delivered)
	f.publish(t, contact+"-newer", envelopeAt(t, f.tenant, contact, newer))
	eventually(t, "delivered", func() bool { return testutil.ToFloat64(f.metrics.delivered) == delivered+1 })
	return newer
}

// arrival reads how the versions reached a workflow: the one in its
// start's input, if any, and the number of signals after it.
func (f *consumerFixture) arrival(t *testing.T, workflowID string) (*workflows.CTRVersion, int) {
	t.Helper()
	it := f.tc.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var in workflows.ConversationInput
	signals := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			if err := converter.GetDefaultDataConverter().FromPayloads(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
				t.Fatal(err)
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			signals++
		}
	}
	return in.First, signals
}

// eventually polls cond for up to 30 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestConsumer(t *testing.T) {
	f := startConsumer(t)
	tenant := f.tenant

	t.Run("a message that can never be processed goes to the dead-letter queue", func(t *testing.T) {
		f.publish(t, "poison-1", []byte("not an envelope"))
		eventually(t, "poison dead-lettered", func() bool { return testenv.QueueDepth(t, f.queue+".dead") == 1 })
		if n := testutil.ToFloat64(f.metrics.deadLettered); n != 1 {
			t.Fatalf("dead-lettered metric = %v, want 1", n)
		}
		if got := testenv.Drain(t, f.queue+".dead", 1); len(got) != 1 || string(got[0].Body) != "not an envelope" {
			t.Fatalf("dead-letter queue holds %d messages", len(got))
		}
	})

	t.Run("a CTR reaches its conversation's workflow and is acked", func(t *testing.T) {
		f.publish(t, "ok-1", envelope(t, tenant, "c-ok"))
		eventually(t, "delivered", func() bool { return testutil.ToFloat64(f.metrics.delivered) == 1 })
		desc, err := f.tc.DescribeWorkflowExecution(context.Background(), workflows.ConversationWorkflowID(tenant, "c-ok"), "")
		if err != nil {
			t.Fatal(err)
		}
		if desc.GetWorkflowExecutionInfo().GetType().GetName() != workflows.ConversationWorkflowType {
			t.Fatalf("workflow type = %s", desc.GetWorkflowExecutionInfo().GetType().GetName())
		}
		if n := testenv.QueueDepth(t, f.queue); n != 0 {
			t.Fatalf("queue holds %d messages after the ack", n)
		}
	})

	t.Run("the CTR is stored once in the claim-check store, and the start carries only its reference", func(t *testing.T) {
		v, _ := f.arrival(t, workflows.ConversationWorkflowID(tenant, "c-ok"))
		if v == nil {
			t.Fatal("the run was started without its version")
		}
		if len(v.CTR) != 0 || len(v.SHA256) != 64 {
			t.Fatalf("the start carries %d CTR bytes and hash %q", len(v.CTR), v.SHA256)
		}
		raw, err := store.NewCTRVersions(f.pool).Get(context.Background(), conversation.CTRRef{TenantID: tenant, ContactID: "c-ok", LastUpdateTimestamp: v.LastUpdateTimestamp})
		if err != nil || conversation.NewCTRRef(tenant, "c-ok", v.LastUpdateTimestamp, raw).SHA256 != v.SHA256 {
			t.Fatalf("the stored version does not match its reference: %v", err)
		}
	})

	t.Run("a version the conversation has finished with, or an older one, is acked without a Temporal call", func(t *testing.T) {
		lu := f.recorded(t, "c-done", "enqueued")
		f.publish(t, "done-1", envelopeAt(t, tenant, "c-done", lu))
		f.publish(t, "done-older", envelopeAt(t, tenant, "c-done", lu.Add(-time.Minute)))
		eventually(t, "skipped", func() bool { return testutil.ToFloat64(f.metrics.skipped) == 2 })
		if _, err := f.tc.DescribeWorkflowExecution(context.Background(), workflows.ConversationWorkflowID(tenant, "c-done"), ""); err == nil {
			t.Fatal("a workflow was started for a finished version")
		}
	})

	t.Run("a re-sent version its conversation's run has recorded and still works on is acked without a Temporal call", func(t *testing.T) {
		lu := f.recorded(t, "c-waiting", "waiting_recording")
		skipped := testutil.ToFloat64(f.metrics.skipped)
		f.publish(t, "waiting-again", envelopeAt(t, tenant, "c-waiting", lu))
		eventually(t, "skipped", func() bool { return testutil.ToFloat64(f.metrics.skipped) == skipped+1 })
		if _, err := f.tc.DescribeWorkflowExecution(context.Background(), workflows.ConversationWorkflowID(tenant, "c-waiting"), ""); err == nil {
			t.Fatal("a workflow was signalled for a version its run already has")
		}
	})

	t.Run("a newer version of a conversation still at work reaches its run by one signal, with no start refused before it", func(t *testing.T) {
		f.deliverNewer(t, "c-updated", "waiting_recording")
		first, signals := f.arrival(t, workflows.ConversationWorkflowID(tenant, "c-updated"))
		if first != nil || signals != 1 {
			t.Fatalf("the version reached the run in its input (%v) and by %d signals; want by one signal, with no refused start before it", first != nil, signals)
		}
	})

	t.Run("a newer version of a finished conversation starts a new run with the version in its input", func(t *testing.T) {
		newer := f.deliverNewer(t, "c-reopened", "enqueued")
		first, signals := f.arrival(t, workflows.ConversationWorkflowID(tenant, "c-reopened"))
		if first == nil || !first.LastUpdateTimestamp.Equal(newer) || signals != 0 {
			t.Fatalf("the run's input holds %+v and %d signals followed; want the newer version in the input", first, signals)
		}
	})

	t.Run("a CTR Postgres refuses is quarantined with the reason and acked, never retried for ever", func(t *testing.T) {
		// Postgres text cannot hold a NUL: the contact ID is refused.
		body, err := json.Marshal(ctr.Envelope{TenantID: tenant, ContactID: "c-nul\x00", LastUpdateTimestamp: time.Now().UTC(),
			CTR: json.RawMessage(`{"ContactId":"c-nul"}`)})
		if err != nil {
			t.Fatal(err)
		}
		f.publish(t, "orphan-1", body)
		eventually(t, "quarantined", func() bool { return testutil.ToFloat64(f.metrics.quarantined) == 1 })
		var reason, detail string
		if err := f.pool.QueryRow(context.Background(), `SELECT reason, detail FROM rejected_records WHERE tenant_id = $1`, tenant).Scan(&reason, &detail); err != nil {
			t.Fatalf("nothing in the quarantine: %v", err)
		}
		if reason != "postgres_refused" || detail == "" {
			t.Fatalf("quarantined as %q: %q", reason, detail)
		}
		eventually(t, "acked", func() bool { return testenv.QueueDepth(t, f.queue) == 0 })
	})

	t.Run("with Temporal unreachable the CTR stays unacked and is retried until Temporal is back", func(t *testing.T) {
		delivered := testutil.ToFloat64(f.metrics.delivered)
		f.proxy.Cut()
		f.publish(t, "outage-1", envelope(t, tenant, "c-outage"))
		eventually(t, "retrying", func() bool { return testutil.ToFloat64(f.metrics.signalRetries) >= 2 })
		if n := testutil.ToFloat64(f.metrics.delivered); n != delivered {
			t.Fatalf("delivered %v during the outage, want only the earlier %v", n, delivered)
		}
		f.proxy.Restore()
		eventually(t, "delivered after the outage", func() bool { return testutil.ToFloat64(f.metrics.delivered) == delivered+1 })
		if _, err := f.tc.DescribeWorkflowExecution(context.Background(), workflows.ConversationWorkflowID(tenant, "c-outage"), ""); err != nil {
			t.Fatalf("the workflow was not started after the outage: %v", err)
		}
	})

	t.Run("after losing the broker the consumer resubscribes by itself", func(t *testing.T) {
		delivered := testutil.ToFloat64(f.metrics.delivered)
		f.broker.Cut()
		time.Sleep(time.Second)
		f.broker.Restore()
		f.publish(t, "after-broker-1", envelope(t, tenant, "c-after-broker"))
		eventually(t, "delivered after the broker came back", func() bool { return testutil.ToFloat64(f.metrics.delivered) == delivered+1 })
	})

	t.Cleanup(func() {
		// Nothing polls these workflows' task queue; end them.
		for _, c := range []string{"c-ok", "c-updated", "c-reopened", "c-outage", "c-after-broker"} {
			_ = f.tc.TerminateWorkflow(context.Background(), workflows.ConversationWorkflowID(tenant, c), "", "test over")
		}
	})
}
