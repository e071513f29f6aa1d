package queue

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrNotConfirmed is returned when the broker negatively acknowledged a
// message, returned it as unroutable, or the channel closed before it
// confirmed. The message may or may not be queued; the caller must treat
// the batch as not accepted and let its sender retry.
var ErrNotConfirmed = errors.New("rabbitmq did not confirm")

// Message is one persistent message to publish.
type Message struct {
	// ID identifies the message's content, so duplicates can be recognised.
	ID        string
	Type      string
	Body      []byte
	Headers   amqp.Table
	Timestamp time.Time
}

// Publisher publishes batches with publisher confirms on a small pool of
// channels. A batch holds one channel from its first publish to its last
// confirm, so the confirms and returns on that channel are all its own.
type Publisher struct {
	conn  *Conn
	slots chan *slot
}

// NewPublisher returns a Publisher with up to channels batches in flight.
func NewPublisher(conn *Conn, channels int) *Publisher {
	p := &Publisher{conn: conn, slots: make(chan *slot, channels)}
	for range channels {
		p.slots <- &slot{}
	}
	return p
}

// Publish sends every message to queue (through the default exchange, as
// mandatory and persistent) and returns nil only once the broker has
// confirmed every one of them. Publishes are pipelined: all are sent, then
// all confirms awaited together.
func (p *Publisher) Publish(ctx context.Context, queue string, msgs []Message) error {
	return p.PublishSeq(ctx, queue, slices.Values(msgs))
}

// PublishSeq is Publish for messages produced one at a time: each is sent as
// soon as msgs yields it, so producing the next message overlaps with the
// broker storing the last. A message is written to the connection before
// the next one is requested, so the producer may reuse its Body buffer.
func (p *Publisher) PublishSeq(ctx context.Context, queue string, msgs iter.Seq[Message]) error {
	var s *slot
	select {
	case s = <-p.slots:
	case <-ctx.Done():
		return fmt.Errorf("wait for a publishing channel: %w", ctx.Err())
	}
	defer func() { p.slots <- s }()

	if err := s.ensure(p.conn); err != nil {
		return err
	}
	err := s.publish(ctx, queue, msgs)
	if err != nil {
		// After a failure the channel's confirm sequence is unknown: start
		// the next batch on a fresh channel.
		s.reset()
	}
	return err
}

// Close closes the pool's channels.
func (p *Publisher) Close() {
	for range cap(p.slots) {
		s := <-p.slots
		s.reset()
	}
}

// slot is one publishing channel in confirm mode, with the tracker of the
// messages the broker returned on it.
type slot struct {
	ch      *amqp.Channel
	gen     uint64
	returns *returnTracker
}

func (s *slot) ensure(conn *Conn) error {
	_, gen, err := conn.current()
	if err != nil {
		return err
	}
	if s.ch != nil && !s.ch.IsClosed() && s.gen == gen {
		return nil
	}
	s.reset()
	ch, gen, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return fmt.Errorf("%w: enable confirms: %v", ErrUnavailable, err)
	}
	s.ch, s.gen = ch, gen
	s.returns = trackReturns(ch)
	return nil
}

func (s *slot) reset() {
	if s.ch != nil {
		s.ch.Close()
	}
	s.ch, s.returns = nil, nil
}

func (s *slot) publish(ctx context.Context, queue string, msgs iter.Seq[Message]) error {
	var pending []*amqp.DeferredConfirmation
	for m := range msgs {
		dc, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false, amqp.Publishing{
			MessageId:    m.ID,
			Type:         m.Type,
			ContentType:  "application/json",
			DeliveryMode: amqp.Persistent,
			Timestamp:    m.Timestamp,
			Headers:      m.Headers,
			Body:         m.Body,
		})
		if err != nil {
			return fmt.Errorf("%w: publish: %v", ErrUnavailable, err)
		}
		pending = append(pending, dc)
	}
	for _, dc := range pending {
		acked, err := dc.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("%w: waiting for confirms: %v", ErrNotConfirmed, err)
		}
		if !acked {
			return fmt.Errorf("%w: message nacked or channel closed", ErrNotConfirmed)
		}
	}
	if returned := s.returns.collect(ctx); len(returned) > 0 {
		return fmt.Errorf("%w: %d messages unroutable to queue %s (first %s)", ErrNotConfirmed, len(returned), queue, returned[0])
	}
	return nil
}

// returnTracker collects the IDs of messages the broker returned as
// unroutable. The broker sends basic.return before the basic.ack of the same
// message, and the client hands the return to this tracker's goroutine before
// it reads the ack. So once a batch's confirms are in, a collect request that
// reaches the goroutine finds every return of the batch already recorded.
type returnTracker struct {
	requests chan chan []string
	done     chan struct{}
}

func trackReturns(ch *amqp.Channel) *returnTracker {
	t := &returnTracker{requests: make(chan chan []string), done: make(chan struct{})}
	returns := ch.NotifyReturn(make(chan amqp.Return))
	go func() {
		defer close(t.done)
		var ids []string
		for {
			select {
			case r, ok := <-returns:
				if !ok {
					return
				}
				ids = append(ids, r.MessageId)
			case reply := <-t.requests:
				reply <- ids
				ids = nil
			}
		}
	}()
	return t
}

// collect returns and forgets the IDs returned since the last call.
func (t *returnTracker) collect(ctx context.Context) []string {
	reply := make(chan []string, 1)
	select {
	case t.requests <- reply:
		return <-reply
	case <-t.done:
		// The channel closed; its confirms already failed the batch.
		return nil
	case <-ctx.Done():
		return []string{"(unknown: " + ctx.Err().Error() + ")"}
	}
}
