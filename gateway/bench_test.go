package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// benchBatch is the number of CTRs per Firehose delivery.
const benchBatch = 500

// benchParallelism × GOMAXPROCS senders run at once (8 on 2 cores), for the
// gateway and the baseline alike.
const benchParallelism = 4

// benchSends is how many batches each sender sends, per side, in one run.
const benchSends = 15

// BenchmarkIngest measures CTRs per second that end confirmed on the quorum
// queue. The gateway (behind loopback HTTP, answered 200) and its baseline,
// amqp091-go publishing exactly the messages the gateway publishes with
// confirms to the same kind of queue at the same concurrency, run back to
// back in every run, which reports their ratio (vs-raw). One batch is 500
// realistic ~4 KB CTRs; each of the senders sends benchSends of them.
func BenchmarkIngest(b *testing.B) {
	records := make([][]byte, benchBatch)
	for i := range records {
		records[i] = ctrtest.Sample(ctrtest.Options{
			ContactID: ctrtest.ContactID(42, i), InstanceARN: testInstanceARN,
			LastUpdate: time.Date(2026, 11, 24, 9, 0, i, 0, time.UTC), AgentUsername: "jdoe",
		})
	}
	senders := benchParallelism * runtime.GOMAXPROCS(0)

	// The baseline: one confirm-mode channel per sender, as the gateway
	// holds a channel per batch in flight.
	q := testenv.Queues(b)
	msgs := rawMessages(b, records)
	conn, err := amqp.Dial(testenv.Config(b).AMQPURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	chans := make([]*amqp.Channel, senders)
	for i := range chans {
		if chans[i], err = conn.Channel(); err != nil {
			b.Fatal(err)
		}
		if err := chans[i].Confirm(false); err != nil {
			b.Fatal(err)
		}
	}
	if err := (queue.Topology{CTRQueue: q}).Declare(chans[0]); err != nil {
		b.Fatal(err)
	}
	raw := func(s int) error {
		for range benchSends {
			pending := make([]*amqp.DeferredConfirmation, 0, len(msgs))
			for _, m := range msgs {
				dc, err := chans[s].PublishWithDeferredConfirm("", q, true, false, m)
				if err != nil {
					return err
				}
				pending = append(pending, dc)
			}
			for _, dc := range pending {
				if !dc.Wait() {
					return fmt.Errorf("nacked")
				}
			}
		}
		return nil
	}

	// The gateway. Each sender encodes its body once: the senders stand in
	// for Firehose, and their own work must not eat the CPU the gateway is
	// measured on. Like a Firehose retry, each re-sends the same request
	// ID; the gateway's work is the same either way.
	// The in-flight bounds admit every sender: this measures throughput at
	// the senders' concurrency, which the baseline publishes at too.
	f := newDirectFixture(b, func(c *config.Config) {
		c.Gateway.BatchesInFlight, c.Gateway.TenantBatchesInFlight = senders, senders
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	bodies := make([][]byte, senders)
	for i := range bodies {
		bodies[i] = firehose.EncodeRequest(fmt.Sprintf("bench-%d", i), time.Now().UnixMilli(), records)
	}
	gateway := func(s int) error {
		for range benchSends {
			req := delivery{requestID: fmt.Sprintf("bench-%d", s), key: testKey, body: bodies[s]}.request(b, f.srv.URL)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		return nil
	}

	// Each side first runs once untimed, so that neither is measured
	// opening connections and channels; and each starts on an empty
	// queue, as a backlog left by the other would cost it the broker's
	// memory and disk.
	concurrently(b, senders, raw)
	concurrently(b, senders, gateway)
	testenv.Purge(b, q)
	testenv.Purge(b, f.cfg.CTRQueue)
	var rawTime, gatewayTime time.Duration
	b.ResetTimer()
	for range b.N {
		rawTime += concurrently(b, senders, raw)
		b.StopTimer()
		testenv.Purge(b, q)
		b.StartTimer()
		gatewayTime += concurrently(b, senders, gateway)
		b.StopTimer()
		testenv.Purge(b, f.cfg.CTRQueue)
		b.StartTimer()
	}
	n := float64(b.N * senders * benchSends * benchBatch)
	rawRate, gatewayRate := n/rawTime.Seconds(), n/gatewayTime.Seconds()
	b.ReportMetric(gatewayRate, "records/s")
	b.ReportMetric(rawRate, "raw-records/s")
	b.ReportMetric(gatewayRate/rawRate, "vs-raw")
}

// concurrently runs f for senders 0..n-1 at once and returns how long they
// took together.
func concurrently(b *testing.B, n int, f func(sender int) error) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for s := range n {
		wg.Go(func() {
			if err := f(s); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// rawMessages builds exactly the messages the gateway publishes for records.
func rawMessages(b *testing.B, records [][]byte) []amqp.Publishing {
	out := make([]amqp.Publishing, len(records))
	now := time.Now().UTC()
	for i, r := range records {
		c, err := ctr.Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		env := ctr.Envelope{TenantID: "acme", ContactID: c.ContactID, LastUpdateTimestamp: c.LastUpdateTimestamp.UTC(), FirehoseRequestID: "bench", ReceivedAt: now, CTR: json.RawMessage(bytes.TrimSpace(r))}
		body, err := json.Marshal(env)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = amqp.Publishing{
			MessageId: env.MessageID(), Type: ctr.EnvelopeType, ContentType: "application/json",
			DeliveryMode: amqp.Persistent, Timestamp: now, Body: body,
			Headers: amqp.Table{"tenant_id": "acme", "contact_id": c.ContactID, "firehose_request_id": "bench"},
		}
	}
	return out
}
