package testenv

import (
	"context"
	"net/url"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Queues returns a unique CTR queue name for one test and deletes the queue
// and its dead-letter queue when the test ends.
func Queues(tb testing.TB) string {
	tb.Helper()
	name := "test.ctr." + Suffix()
	DeleteQueueAtEnd(tb, name)
	DeleteQueueAtEnd(tb, name+".dead")
	return name
}

// DeleteQueueAtEnd deletes a queue when the test ends.
func DeleteQueueAtEnd(tb testing.TB, name string) {
	tb.Cleanup(func() {
		conn, ch := channel(tb)
		defer conn.Close()
		defer ch.Close()
		if _, err := ch.QueueDelete(name, false, false, false); err != nil {
			tb.Errorf("delete queue %s: %v", name, err)
		}
	})
}

func channel(tb testing.TB) (*amqp.Connection, *amqp.Channel) {
	tb.Helper()
	conn, err := amqp.Dial(Config(tb).AMQPURL)
	if err != nil {
		tb.Fatalf("connect to rabbitmq (is the stack up? run `make stack`): %v", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatalf("open channel: %v", err)
	}
	return conn, ch
}

// Drain consumes up to want messages from queue, acking them, and returns
// them. It stops early when no message arrives for two seconds.
func Drain(tb testing.TB, queue string, want int) []amqp.Delivery {
	tb.Helper()
	conn, ch := channel(tb)
	defer conn.Close()
	defer ch.Close()
	if err := ch.Qos(1000, 0, false); err != nil {
		tb.Fatalf("qos: %v", err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		tb.Fatalf("consume %s: %v", queue, err)
	}
	var got []amqp.Delivery
	for len(got) < want {
		select {
		case d := <-deliveries:
			if err := d.Ack(false); err != nil {
				tb.Fatalf("ack: %v", err)
			}
			got = append(got, d)
		case <-time.After(2 * time.Second):
			return got
		}
	}
	return got
}

// QueueDepth returns how many messages wait in queue.
func QueueDepth(tb testing.TB, queue string) int {
	tb.Helper()
	conn, ch := channel(tb)
	defer conn.Close()
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum})
	if err != nil {
		tb.Fatalf("inspect queue %s: %v", queue, err)
	}
	return q.Messages
}

// AMQPURLVia returns the AMQP URL with its host replaced by addr (a Proxy).
func AMQPURLVia(tb testing.TB, addr string) string {
	tb.Helper()
	u, err := url.Parse(Config(tb).AMQPURL)
	if err != nil {
		tb.Fatalf("parse AMQP_URL: %v", err)
	}
	u.Host = addr
	return u.String()
}

// WithTimeout returns a context bounded for one test step.
func WithTimeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// Purge empties a queue, so that what one measurement left in the broker
// does not weigh on the next.
func Purge(tb testing.TB, queue string) {
	tb.Helper()
	conn, ch := channel(tb)
	defer conn.Close()
	defer ch.Close()
	if _, err := ch.QueuePurge(queue, false); err != nil {
		tb.Fatalf("purge %s: %v", queue, err)
	}
}
