package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestDeadlettersList(t *testing.T) {
	q := testenv.Queues(t)
	conn, err := amqp.Dial(testenv.Config(t).AMQPURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := (queue.Topology{CTRQueue: q}).Declare(ch); err != nil {
		t.Fatal(err)
	}
	// A message rejected by a consumer is dead-lettered, as the worker does
	// with one it can never process.
	if err := ch.PublishWithContext(context.Background(), "", q, false, false, amqp.Publishing{MessageId: "poison-7", Body: []byte("garbage")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, ok, err := ch.Get(q, false)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if err := d.Nack(false, false); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the message never arrived")
		}
		time.Sleep(50 * time.Millisecond)
	}
	ch.Close()
	for testenv.QueueDepth(t, q+".dead") != 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}

	list := func() []deadLetterJSON {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"deadletters", "list", "--json"}, testenv.Getenv(map[string]string{"AMQP_CTR_QUEUE": q}), &out, &errOut)
		if err != nil {
			t.Fatalf("%v: %s", err, errOut.String())
		}
		var got []deadLetterJSON
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	t.Run("shows the message, its body and why it was dead-lettered", func(t *testing.T) {
		got := list()
		if len(got) != 1 || got[0].MessageID != "poison-7" || got[0].Body != "garbage" || got[0].Reason != "rejected" {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("listing leaves the messages where they are", func(t *testing.T) {
		if got := list(); len(got) != 1 {
			t.Fatalf("second listing shows %d messages", len(got))
		}
		// The broker puts fetched messages back when the listing's channel
		// closes, a moment after the command returns: wait for that.
		n := testenv.QueueDepth(t, q+".dead")
		for deadline := time.Now().Add(10 * time.Second); n != 1 && time.Now().Before(deadline); n = testenv.QueueDepth(t, q+".dead") {
			time.Sleep(50 * time.Millisecond)
		}
		if n != 1 {
			t.Fatalf("dead-letter queue holds %d after listing, want 1", n)
		}
	})
}
