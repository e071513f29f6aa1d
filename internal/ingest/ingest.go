// Package ingest turns a batch of Firehose records into durable state: each
// valid CTR becomes a confirmed message on the CTR queue, each record that can
// never succeed is quarantined with its reason. The gateway and the replay of
// Firehose's S3 backup both go through it, so both validate alike.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
)

// Publisher publishes a batch and returns once the broker confirmed all of it.
type Publisher interface {
	Publish(ctx context.Context, queue string, msgs []queue.Message) error
}

// Quarantine durably stores records that can never succeed.
type Quarantine interface {
	Put(ctx context.Context, records []store.Rejected) error
}

// Ingester validates, quarantines and publishes batches.
type Ingester struct {
	Publisher  Publisher
	Quarantine Quarantine
	Queue      string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Batch is one Firehose delivery for one tenant.
type Batch struct {
	Tenant    store.Tenant
	RequestID string
	Records   []firehose.Record
}

// Result counts what became of a batch's records.
type Result struct {
	Published   int
	Quarantined map[ctr.Reason]int
}

// QuarantinedTotal is the number of records quarantined for any reason.
func (r Result) QuarantinedTotal() int {
	n := 0
	for _, c := range r.Quarantined {
		n += c
	}
	return n
}

// Ingest handles every record of b. A nil error means every record is either
// confirmed by the broker or quarantined in Postgres; any error means the
// batch as a whole must be retried (it is safe to: both steps are
// idempotent under the same request ID).
func (in *Ingester) Ingest(ctx context.Context, b Batch) (Result, error) {
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	received := now().UTC()
	res := Result{Quarantined: map[ctr.Reason]int{}}
	var msgs []queue.Message
	var rejected []store.Rejected
	for i, rec := range b.Records {
		msg, rej := in.prepare(b, i, rec, received)
		if rej != nil {
			rejected = append(rejected, *rej)
			res.Quarantined[ctr.Reason(rej.Reason)]++
			continue
		}
		msgs = append(msgs, msg)
	}
	// Quarantine first: a record is never answered 200 unless it is somewhere
	// durable, and storing a rejection twice on retry is a no-op.
	if err := in.Quarantine.Put(ctx, rejected); err != nil {
		return Result{}, err
	}
	if err := in.Publisher.Publish(ctx, in.Queue, msgs); err != nil {
		return Result{}, err
	}
	res.Published = len(msgs)
	return res, nil
}

// prepare turns record i into a message, or into a quarantined record.
func (in *Ingester) prepare(b Batch, i int, rec firehose.Record, received time.Time) (queue.Message, *store.Rejected) {
	rejectRaw := func(raw []byte, err error) *store.Rejected {
		var re *ctr.RejectError
		if !errors.As(err, &re) {
			re = &ctr.RejectError{Reason: ctr.ReasonNotJSON, Detail: err.Error()}
		}
		return &store.Rejected{
			TenantID: b.Tenant.ID, FirehoseRequestID: b.RequestID, RecordIndex: i,
			Reason: string(re.Reason), Detail: re.Detail, RawData: raw,
		}
	}
	data, err := firehose.DecodeData(rec)
	if err != nil {
		// Keep the record as it arrived: its base64 text is the raw input.
		reason := ctr.ReasonBadBase64
		if errors.Is(err, firehose.ErrTooLarge) {
			reason = ctr.ReasonTooLarge
		}
		return queue.Message{}, rejectRaw([]byte(rec.Data), &ctr.RejectError{Reason: reason, Detail: err.Error()})
	}
	c, err := ctr.Parse(data)
	if err != nil {
		return queue.Message{}, rejectRaw(data, err)
	}
	if err := ctr.CheckInstance(c, b.Tenant.InstanceARN); err != nil {
		return queue.Message{}, rejectRaw(data, err)
	}
	env := ctr.Envelope{
		TenantID:            b.Tenant.ID,
		ContactID:           c.ContactID,
		LastUpdateTimestamp: c.LastUpdateTimestamp.UTC(),
		FirehoseRequestID:   b.RequestID,
		ReceivedAt:          received,
		CTR:                 json.RawMessage(data),
	}
	body, err := json.Marshal(env)
	if err != nil {
		// Parse accepted the CTR as JSON, so re-encoding it cannot fail; if
		// it ever does, the record is kept rather than lost.
		return queue.Message{}, rejectRaw(data, fmt.Errorf("encode envelope: %w", err))
	}
	return queue.Message{
		ID:        env.MessageID(),
		Type:      ctr.EnvelopeType,
		Body:      body,
		Timestamp: received,
		Headers: amqp.Table{
			"tenant_id":           env.TenantID,
			"contact_id":          env.ContactID,
			"firehose_request_id": b.RequestID,
		},
	}, nil
}
