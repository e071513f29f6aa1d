package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.temporal.io/api/serviceerror"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/workflows"
)

// consumer hands each CTR message to its conversation's workflow. It
// stores the CTR version in the claim-check store first, then signals the
// workflow with a reference to it, and acks only once both are done. A
// version the conversation already has (finished with, or its run still at
// work on it), or an older one, is acked without a Temporal call. Faults
// of the moment (Postgres or Temporal unreachable) are retried with
// backoff for retryFor, after which the message goes back to the queue,
// whose delivery limit dead-letters it in the end; a message whose content
// Postgres or Temporal refuses is quarantined with the reason at once.
// Nothing is held for ever and nothing is lost.
type consumer struct {
	conn       *queue.Conn
	queue      string
	prefetch   int
	temporal   workflows.Starter
	versions   *store.CTRVersions
	quarantine *store.Quarantine
	taskQueue  string
	waitWindow time.Duration
	// inlineCopyMaxBytes bounds the recordings the runs it starts copy
	// inline.
	inlineCopyMaxBytes int64
	retryFor           time.Duration
	log                *slog.Logger
	metrics            *workerMetrics
}

// run consumes until ctx ends, re-subscribing after every broker outage.
func (c *consumer) run(ctx context.Context) error {
	for {
		if err := c.conn.WaitReady(ctx); err != nil {
			return nil // ctx ended
		}
		if err := c.consume(ctx); err != nil {
			c.log.Warn("consumer stopped, resubscribing", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// consume processes deliveries on one channel until it closes or ctx ends.
// Unacked messages return to the queue when the channel closes.
func (c *consumer) consume(ctx context.Context) error {
	ch, _, err := c.conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := ch.Qos(c.prefetch, 0, false); err != nil {
		return fmt.Errorf("set prefetch: %w", err)
	}
	deliveries, err := ch.ConsumeWithContext(ctx, c.queue, "", false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume %s: %w", c.queue, err)
	}
	c.log.Info("consuming", "queue", c.queue, "prefetch", c.prefetch)
	var wg sync.WaitGroup
	defer wg.Wait()
	for d := range deliveries {
		wg.Go(func() { c.handle(ctx, d) })
	}
	if ctx.Err() != nil {
		return nil // shutting down
	}
	return errors.New("delivery channel closed")
}

// handle stores one message's CTR version, delivers its reference to
// Temporal and acks it.
func (c *consumer) handle(ctx context.Context, d amqp.Delivery) {
	env, err := decodeEnvelope(d.Body)
	if err != nil {
		c.log.Error("CTR message can never be processed, dead-lettering", "message_id", d.MessageId, "error", err)
		c.metrics.deadLettered.Inc()
		_ = d.Nack(false, false)
		return
	}
	log := c.log.With("tenant_id", env.TenantID, "contact_id", env.ContactID,
		"workflow_id", workflows.ConversationWorkflowID(env.TenantID, env.ContactID))
	retryFor := c.retryFor
	if retryFor <= 0 {
		retryFor = defaultRetryFor
	}
	r := retrier{ctx: ctx, until: time.Now().Add(retryFor), backoff: 200 * time.Millisecond, log: log}

	var stored store.Stored
	for {
		stored, err = c.versions.Put(ctx, conversation.NewCTRRef(env.TenantID, env.ContactID, env.LastUpdateTimestamp, env.CTR),
			env.CTR, env.FirehoseRequestID, env.Origin, env.ReceivedAt)
		if err == nil {
			break
		}
		if store.IsDataError(err) {
			c.refuse(ctx, d, env, log, "postgres_refused", err)
			return
		}
		if !r.again("Postgres did not store the CTR version", err) {
			c.requeue(d, log)
			return
		}
	}
	if stored.Erased {
		// The contact was erased: its CTRs are refused, counted on its
		// tombstone, and never ingested again.
		log.Info("CTR of an erased contact refused")
		c.metrics.erasedRefused.Inc()
		c.ack(d, log)
		return
	}
	if stored.Done {
		c.ack(d, log)
		c.metrics.skipped.Inc()
		return
	}
	for {
		err := c.signal(ctx, env, stored)
		if err == nil {
			c.ack(d, log)
			c.metrics.delivered.Inc()
			return
		}
		var invalid *serviceerror.InvalidArgument
		if errors.As(err, &invalid) {
			c.refuse(ctx, d, env, log, "temporal_refused", err)
			return
		}
		c.metrics.signalRetries.Inc()
		if !r.again("Temporal did not accept the CTR version", err) {
			c.requeue(d, log)
			return
		}
	}
}

// defaultRetryFor is WORKER_DELIVERY_RETRY_FOR's default, for a consumer
// built without it.
const defaultRetryFor = 2 * time.Minute

// retrier paces one message's retries and says when they are over.
type retrier struct {
	ctx     context.Context
	until   time.Time
	backoff time.Duration
	log     *slog.Logger
}

// again waits before the next attempt and reports whether there is one:
// false once the deadline has passed or the consumer is stopping.
func (r *retrier) again(what string, err error) bool {
	if !time.Now().Add(r.backoff).Before(r.until) {
		return false
	}
	r.log.Warn(what+", retrying", "error", err, "retry_in", r.backoff)
	select {
	case <-r.ctx.Done():
		return false
	case <-time.After(r.backoff):
	}
	r.backoff = min(r.backoff*2, 10*time.Second)
	return true
}

func (c *consumer) ack(d amqp.Delivery, log *slog.Logger) {
	if err := d.Ack(false); err != nil {
		// The channel closed: the broker redelivers, and the duplicate
		// is skipped or taken as a no-op.
		log.Warn("ack failed; the message will be redelivered", "error", err)
	}
}

// requeue returns a message whose retries ran out to the queue; RabbitMQ
// dead-letters it once it reaches the queue's delivery limit. When the
// consumer is stopping, the same returns the message for another worker.
func (c *consumer) requeue(d amqp.Delivery, log *slog.Logger) {
	log.Warn("retries ran out; returning the message to the queue")
	c.metrics.requeued.Inc()
	_ = d.Nack(false, true)
}

// refuse quarantines a message whose content Postgres or Temporal refuses,
// with the reason, and acks it: retrying would be refused again.
func (c *consumer) refuse(ctx context.Context, d amqp.Delivery, env ctr.Envelope, log *slog.Logger, reason string, cause error) {
	rec := store.NewRejected(env.CTR)
	rec.TenantID, rec.FirehoseRequestID, rec.Reason, rec.Detail = env.TenantID, "worker/"+env.MessageID(), reason, cause.Error()
	put, err := c.quarantine.Put(ctx, []store.Rejected{rec})
	if err != nil {
		log.Error("could not quarantine a refused CTR; dead-lettering it instead", "reason", reason, "error", err)
		c.metrics.deadLettered.Inc()
		_ = d.Nack(false, false)
		return
	}
	if put.OverQuota[env.TenantID] > 0 {
		log.Warn("the tenant's quarantine quota is reached: the refused CTR is kept without its bytes")
		c.metrics.quarantineOverQuota.Inc()
	}
	log.Error("CTR version refused, quarantined", "reason", reason, "error", cause)
	c.metrics.quarantined.Inc()
	c.ack(d, log)
}

// signal hands the stored CTR version's reference to its conversation's
// workflow (see workflows.Deliver).
func (c *consumer) signal(ctx context.Context, env ctr.Envelope, stored store.Stored) error {
	ref := stored.Ref
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := workflows.Deliver(sctx, c.temporal, workflows.Delivery{
		TenantID: env.TenantID, ContactID: env.ContactID, TaskQueue: c.taskQueue, WaitWindow: c.waitWindow,
		InlineCopyMaxBytes: c.inlineCopyMaxBytes, RunOpen: stored.RunOpen,
		Version: workflows.CTRVersion{LastUpdateTimestamp: ref.LastUpdateTimestamp, FirehoseRequestID: env.FirehoseRequestID, SHA256: ref.SHA256},
	})
	if err == nil && !env.ReceivedAt.IsZero() {
		c.metrics.consumerLag.Observe(time.Since(env.ReceivedAt).Seconds())
	}
	return err
}

// decodeEnvelope reads a CTR message; the gateway validated it, so failing
// here means a message from elsewhere or a bug, never a transient fault.
func decodeEnvelope(body []byte) (ctr.Envelope, error) {
	var env ctr.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return ctr.Envelope{}, fmt.Errorf("decode envelope: %w", err)
	}
	if env.TenantID == "" || env.ContactID == "" || env.LastUpdateTimestamp.IsZero() || len(env.CTR) == 0 {
		return ctr.Envelope{}, fmt.Errorf("envelope lacks tenant, contact, timestamp or CTR")
	}
	return env, nil
}
