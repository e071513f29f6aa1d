package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

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

// BenchmarkIngest measures CTRs per second that end confirmed on the quorum
// queue. "gateway" is the whole gateway behind loopback HTTP, answered 200;
// "raw", the baseline, is amqp091-go publishing the same messages with
// confirms to the same kind of queue at the same concurrency. One op is one
// batch of 500 realistic ~4 KB CTRs. make bench reports gateway/raw.
func BenchmarkIngest(b *testing.B) {
	records := make([][]byte, benchBatch)
	for i := range records {
		records[i] = ctrtest.Sample(ctrtest.Options{
			ContactID: ctrtest.ContactID(42, i), InstanceARN: testInstanceARN,
			LastUpdate: time.Date(2026, 11, 24, 9, 0, i, 0, time.UTC), AgentUsername: "jdoe",
		})
	}

	b.Run("raw", func(b *testing.B) {
		q := testenv.Queues(b)
		msgs := rawMessages(b, records)
		conn, err := amqp.Dial(testenv.Config(b).AMQPURL)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			b.Fatal(err)
		}
		if err := (queue.Topology{CTRQueue: q}).Declare(ch); err != nil {
			b.Fatal(err)
		}
		ch.Close()

		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			ch, err := conn.Channel()
			if err != nil {
				b.Error(err)
				return
			}
			defer ch.Close()
			if err := ch.Confirm(false); err != nil {
				b.Error(err)
				return
			}
			for pb.Next() {
				pending := make([]*amqp.DeferredConfirmation, 0, len(msgs))
				for _, m := range msgs {
					dc, err := ch.PublishWithDeferredConfirm("", q, true, false, m)
					if err != nil {
						b.Error(err)
						return
					}
					pending = append(pending, dc)
				}
				for _, dc := range pending {
					if !dc.Wait() {
						b.Error("nacked")
						return
					}
				}
			}
		})
		b.ReportMetric(float64(b.N*benchBatch)/time.Since(start).Seconds(), "records/s")
	})

	b.Run("gateway", func(b *testing.B) {
		f := newDirectFixture(b)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		var senders atomic.Int64

		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			// Each sender encodes its body once: the senders stand in for
			// Firehose, and their own work must not eat the CPU the gateway
			// is measured on. Like a Firehose retry, each re-sends the same
			// request ID; the gateway's work is the same either way.
			id := fmt.Sprintf("bench-%d", senders.Add(1))
			body := firehose.EncodeRequest(id, time.Now().UnixMilli(), records)
			for pb.Next() {
				req := delivery{requestID: id, key: testKey, body: body}.request(b, f.srv.URL)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N*benchBatch)/time.Since(start).Seconds(), "records/s")
	})
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
