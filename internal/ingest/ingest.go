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
	"iter"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// Publisher publishes messages as they are produced and returns once the
// broker confirmed all of them.
type Publisher interface {
	PublishSeq(ctx context.Context, queue string, msgs iter.Seq[queue.Message]) error
}

// Quarantine durably stores records that can never succeed.
type Quarantine interface {
	Put(ctx context.Context, records []store.Rejected) (store.PutResult, error)
}

// AgentStates durably records agents' latest events.
type AgentStates interface {
	RecordEvents(ctx context.Context, tenantID string, events []ctr.AgentEvent) error
}

// Ingester validates, quarantines and publishes batches.
type Ingester struct {
	Publisher  Publisher
	Quarantine Quarantine
	Queue      string
	// Agents, when set, keeps each agent's latest login, logout and
	// status from the agent events on the stream; without it they are
	// only counted.
	Agents AgentStates
	// Tombstones, when set, refuses the CTRs of erased contacts before
	// they are published, and counts them (Result.Erased): for the replay
	// and the reconciliation, which an operator runs and reads. The
	// gateway leaves it unset: its CTRs are refused and counted by the
	// worker's claim-check store, off the delivery's path.
	Tombstones Tombstones
}

// Tombstones says whether a contact was erased (ErrErased; see
// store.Erasures.Check).
type Tombstones interface {
	Check(ctx context.Context, tenantID, contactID string) error
}

// Batch is one Firehose delivery for one tenant.
type Batch struct {
	Tenant    tenant.Tenant
	RequestID string
	Records   []firehose.Record
	// Origin is empty for Firehose's records (ctr.Envelope.Origin).
	Origin string
}

// Result counts what became of a batch's records.
type Result struct {
	Published   int
	Quarantined map[ctr.Reason]int
	// OverQuota counts the quarantined records kept without their bytes
	// because the tenant's quarantine quota is reached.
	OverQuota int
	// AgentEvents counts the agent events among the records, by type:
	// they share the stream with contact records, and are neither
	// published nor quarantined.
	AgentEvents map[string]int
	// Erased counts the CTRs of erased contacts refused (with
	// Ingester.Tombstones set).
	Erased int
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
	received := time.Now().UTC()
	res := Result{Quarantined: map[ctr.Reason]int{}, AgentEvents: map[string]int{}}
	var rejected []store.Rejected
	var events []ctr.AgentEvent
	// Each good record is published as soon as it is prepared, so preparing
	// the next overlaps with the broker storing the last.
	var bufs buffers
	var checkErr error
	msgs := func(yield func(queue.Message) bool) {
		for i, rec := range b.Records {
			msg, rej, ev := in.prepare(b, i, rec, received, &bufs)
			if ev != nil {
				res.AgentEvents[ev.EventType]++
				events = append(events, *ev)
				continue
			}
			if rej != nil {
				rejected = append(rejected, *rej)
				res.Quarantined[ctr.Reason(rej.Reason)]++
				continue
			}
			if in.Tombstones != nil {
				contact, _ := msg.Headers["contact_id"].(string)
				err := in.Tombstones.Check(ctx, b.Tenant.ID, contact)
				if store.IsErased(err) {
					res.Erased++
					continue
				}
				if err != nil {
					checkErr = err
					return
				}
			}
			res.Published++
			if !yield(msg) {
				return
			}
		}
	}
	if err := in.Publisher.PublishSeq(ctx, in.Queue, msgs); err != nil {
		return Result{}, err
	}
	if checkErr != nil {
		return Result{}, checkErr
	}
	// Quarantining after publishing is as safe as before: the answer is 200
	// only when both are durable, and a retried batch re-publishes (the
	// worker deduplicates) and re-quarantines (a no-op per request ID).
	put, err := in.Quarantine.Put(ctx, rejected)
	if err != nil {
		return Result{}, err
	}
	res.OverQuota = put.OverQuota[b.Tenant.ID]
	if in.Agents != nil && len(events) > 0 {
		if err := in.Agents.RecordEvents(ctx, b.Tenant.ID, events); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// buffers are reused for every record of a batch: the publisher writes each
// message out before it asks for the next (queue.Publisher.PublishSeq), and
// per-record allocations were most of the gateway's garbage.
type buffers struct {
	data []byte // the record's decoded bytes
	body []byte // the message body
}

// prepare turns record i into a message, into a quarantined record, or,
// for an agent event of the tenant's instance, into that event. The
// message's body lives in bufs until the next call.
func (in *Ingester) prepare(b Batch, i int, rec firehose.Record, received time.Time, bufs *buffers) (queue.Message, *store.Rejected, *ctr.AgentEvent) {
	rejectRaw := func(raw []byte, err error) *store.Rejected {
		var re *ctr.RejectError
		if !errors.As(err, &re) {
			re = &ctr.RejectError{Reason: ctr.ReasonNotJSON, Detail: err.Error()}
		}
		rej := store.NewRejected(raw)
		rej.TenantID, rej.FirehoseRequestID, rej.RecordIndex = b.Tenant.ID, b.RequestID, i
		rej.Reason, rej.Detail = string(re.Reason), re.Detail
		return &rej
	}
	data, err := firehose.AppendData(bufs.data, rec)
	if err != nil {
		// Keep the record as it arrived: its base64 text is the raw input.
		reason := ctr.ReasonBadBase64
		if errors.Is(err, firehose.ErrTooLarge) {
			reason = ctr.ReasonTooLarge
		}
		return queue.Message{}, rejectRaw([]byte(rec.Data), &ctr.RejectError{Reason: reason, Detail: err.Error()}), nil
	}
	bufs.data = data
	c, err := ctr.Identify(data)
	var re *ctr.RejectError
	if errors.As(err, &re) && re.Reason == ctr.ReasonMissingContactID {
		if ev, ok := ctr.AsAgentEvent(data); ok {
			if !b.Tenant.HasInstance(ev.InstanceARN) {
				return queue.Message{}, rejectRaw(data, &ctr.RejectError{Reason: ctr.ReasonInstanceMismatch,
					Detail: fmt.Sprintf("agent event from instance %.200q, not the tenant's", ev.InstanceARN)}), nil
			}
			return queue.Message{}, nil, &ev
		}
	}
	if err != nil {
		return queue.Message{}, rejectRaw(data, err), nil
	}
	if err := ctr.CheckInstance(c, b.Tenant.InstanceARNs()); err != nil {
		return queue.Message{}, rejectRaw(data, err), nil
	}
	env := ctr.Envelope{
		TenantID:            b.Tenant.ID,
		ContactID:           c.ContactID,
		LastUpdateTimestamp: c.LastUpdateTimestamp.UTC(),
		FirehoseRequestID:   b.RequestID,
		ReceivedAt:          received,
		Origin:              b.Origin,
		CTR:                 json.RawMessage(data),
	}
	body, err := env.AppendEncode(bufs.body[:0])
	if err != nil {
		// Identify accepted the CTR as JSON, so encoding cannot fail; if it
		// ever does, the record is kept rather than lost.
		return queue.Message{}, rejectRaw(data, err), nil
	}
	bufs.body = body
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
	}, nil, nil
}
