package queue

import (
	"context"
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Remove takes the messages of queue that match selects out of it, and
// returns how many it took. AMQP has no delete by selection: each message
// waiting when Remove starts is fetched once; one that matches is acked
// (gone), any other is published again to the queue's tail, confirmed, and
// only then acked, so that no message is ever lost (a crash in between
// leaves a duplicate, which every consumer here tolerates). Messages keep
// their properties and headers (x-death among them); the order of those
// put back changes. A queue that does not exist holds nothing to remove.
func Remove(ctx context.Context, conn *Conn, queue string, match func(amqp.Delivery) bool) (int, error) {
	ch, _, err := conn.Channel()
	if err != nil {
		return 0, err
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotFound {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("inspect %s: %w", queue, err)
	}
	if err := ch.Confirm(false); err != nil {
		return 0, fmt.Errorf("confirm mode on %s: %w", queue, err)
	}
	removed := 0
	for range q.Messages {
		d, ok, err := ch.Get(queue, false)
		if err != nil {
			return removed, fmt.Errorf("read %s: %w", queue, err)
		}
		if !ok {
			break
		}
		if match(d) {
			if err := d.Ack(false); err != nil {
				return removed, fmt.Errorf("remove %s from %s: %w", d.MessageId, queue, err)
			}
			removed++
			continue
		}
		if err := putBack(ctx, ch, queue, d); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// putBack publishes d to the tail of queue, confirmed, and then acks it.
func putBack(ctx context.Context, ch *amqp.Channel, queue string, d amqp.Delivery) error {
	conf, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false, amqp.Publishing{
		Headers: d.Headers, ContentType: d.ContentType, ContentEncoding: d.ContentEncoding, DeliveryMode: amqp.Persistent,
		Priority: d.Priority, CorrelationId: d.CorrelationId, ReplyTo: d.ReplyTo, Expiration: d.Expiration,
		MessageId: d.MessageId, Timestamp: d.Timestamp, Type: d.Type, UserId: d.UserId, AppId: d.AppId, Body: d.Body,
	})
	if err == nil {
		var acked bool
		acked, err = conf.WaitContext(ctx)
		if err == nil && !acked {
			err = errors.New("the broker refused it")
		}
	}
	if err != nil {
		// The original goes back where it was: nothing is lost.
		_ = d.Nack(false, true)
		return fmt.Errorf("put %s back on %s: %w", d.MessageId, queue, err)
	}
	if err := d.Ack(false); err != nil {
		return fmt.Errorf("take %s off %s after putting it back: %w", d.MessageId, queue, err)
	}
	return nil
}
