package queue_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func dial(t *testing.T, url, ctrQueue string) *queue.Conn {
	t.Helper()
	conn := queue.Dial(url, queue.Topology{CTRQueue: ctrQueue}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { conn.Close() })
	if err := conn.WaitReady(testenv.WithTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	return conn
}

func messages(n int) []queue.Message {
	out := make([]queue.Message, n)
	for i := range out {
		out[i] = queue.Message{ID: fmt.Sprintf("m-%d", i), Type: "test", Body: []byte(fmt.Sprintf(`{"n":%d}`, i)), Timestamp: time.Now()}
	}
	return out
}

func TestPublisher(t *testing.T) {
	q := testenv.Queues(t)
	conn := dial(t, testenv.Config(t).AMQPURL, q)
	p := queue.NewPublisher(conn, 2)
	t.Cleanup(p.Close)

	t.Run("a confirmed batch is on the queue in order", func(t *testing.T) {
		if err := p.Publish(testenv.WithTimeout(t, 10*time.Second), q, messages(50)); err != nil {
			t.Fatal(err)
		}
		got := testenv.Drain(t, q, 50)
		if len(got) != 50 {
			t.Fatalf("got %d messages, want 50", len(got))
		}
		for i, d := range got {
			if d.MessageId != fmt.Sprintf("m-%d", i) {
				t.Fatalf("message %d has id %s", i, d.MessageId)
			}
		}
	})

	t.Run("a batch to a queue that does not exist is returned and not confirmed", func(t *testing.T) {
		err := p.Publish(testenv.WithTimeout(t, 10*time.Second), "no-such-queue-"+testenv.Suffix(), messages(3))
		if !errors.Is(err, queue.ErrNotConfirmed) {
			t.Fatalf("err = %v, want ErrNotConfirmed", err)
		}
	})

	t.Run("after a refused batch the same channel slot publishes again", func(t *testing.T) {
		for range 3 { // more batches than slots: every slot is reused
			if err := p.Publish(testenv.WithTimeout(t, 10*time.Second), q, messages(5)); err != nil {
				t.Fatal(err)
			}
		}
		if got := testenv.Drain(t, q, 15); len(got) != 15 {
			t.Fatalf("got %d messages, want 15", len(got))
		}
	})

	t.Run("the CTR queue is a quorum queue with a dead-letter queue", func(t *testing.T) {
		// QueueDepth declares passively with the quorum type; RabbitMQ
		// refuses that for a queue of another type.
		testenv.QueueDepth(t, q)
		testenv.QueueDepth(t, q+".dead")
	})
}

func TestConnReconnects(t *testing.T) {
	q := testenv.Queues(t)
	proxy := testenv.NewProxy(t, "127.0.0.1:5672")
	conn := dial(t, testenv.AMQPURLVia(t, proxy.Addr()), q)
	p := queue.NewPublisher(conn, 1)
	t.Cleanup(p.Close)

	t.Run("while the broker is unreachable publishing fails at once", func(t *testing.T) {
		proxy.Cut()
		deadline := time.Now().Add(5 * time.Second)
		for conn.Ready() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		err := p.Publish(testenv.WithTimeout(t, 5*time.Second), q, messages(1))
		if !errors.Is(err, queue.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})

	t.Run("when it is back the connection recovers by itself", func(t *testing.T) {
		proxy.Restore()
		if err := conn.WaitReady(testenv.WithTimeout(t, 15*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := p.Publish(testenv.WithTimeout(t, 5*time.Second), q, messages(2)); err != nil {
			t.Fatal(err)
		}
		if got := testenv.Drain(t, q, 2); len(got) != 2 {
			t.Fatalf("got %d messages, want 2", len(got))
		}
	})
}
