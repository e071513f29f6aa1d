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

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/workflows"
)

// consumer hands each CTR message to its conversation's workflow. A message
// is acked only after Temporal accepted the signal; while Temporal is
// unreachable the message stays unacked and is retried with backoff, so
// nothing is lost. Only a message that can never be processed is rejected
// to the dead-letter queue.
type consumer struct {
	conn       *queue.Conn
	queue      string
	prefetch   int
	temporal   workflows.Starter
	taskQueue  string
	waitWindow time.Duration
	log        *slog.Logger
	metrics    *workerMetrics
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

// handle delivers one message to Temporal and acks it, retrying while
// Temporal cannot be reached.
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
	backoff := 200 * time.Millisecond
	for {
		err := c.signal(ctx, env)
		if err == nil {
			if err := d.Ack(false); err != nil {
				// The channel closed: the broker redelivers, the workflow
				// takes the duplicate version as a no-op.
				log.Warn("ack failed; the message will be redelivered", "error", err)
			}
			c.metrics.delivered.Inc()
			return
		}
		var invalid *serviceerror.InvalidArgument
		if errors.As(err, &invalid) {
			log.Error("Temporal refuses this message, dead-lettering", "error", err)
			c.metrics.deadLettered.Inc()
			_ = d.Nack(false, false)
			return
		}
		log.Warn("Temporal did not accept the CTR, retrying", "error", err, "retry_in", backoff)
		c.metrics.signalRetries.Inc()
		select {
		case <-ctx.Done():
			return // unacked: back to the queue when the channel closes
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// signal hands the CTR version to its conversation's workflow (see
// workflows.Deliver).
func (c *consumer) signal(ctx context.Context, env ctr.Envelope) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := workflows.Deliver(sctx, c.temporal, workflows.Delivery{
		TenantID: env.TenantID, ContactID: env.ContactID, TaskQueue: c.taskQueue, WaitWindow: c.waitWindow,
		Version: workflows.CTRVersion{LastUpdateTimestamp: env.LastUpdateTimestamp, FirehoseRequestID: env.FirehoseRequestID, CTR: env.CTR},
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
