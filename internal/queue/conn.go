// Package queue holds connect-ingest's RabbitMQ plumbing: a connection that
// reconnects by itself, the queue topology, a publisher that waits for
// publisher confirms over a whole batch, and the worker's consumer.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrUnavailable is returned while there is no broker connection. Callers
// answer it with "try again later" (the gateway's 503).
var ErrUnavailable = errors.New("rabbitmq unavailable")

// Conn keeps one AMQP connection open. When the broker closes it or goes
// away, Conn dials again with backoff and re-declares the topology, so the
// program recovers without a restart.
type Conn struct {
	url      string
	topology Topology
	log      *slog.Logger

	mu   sync.RWMutex
	conn *amqp.Connection
	gen  uint64 // incremented on every new connection

	done chan struct{}
	stop context.CancelFunc
}

// Dial starts connecting in the background and returns at once; Ready says
// when the connection is up. Close stops it.
func Dial(url string, topology Topology, log *slog.Logger) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{url: url, topology: topology, log: log, done: make(chan struct{}), stop: cancel}
	go c.loop(ctx)
	return c
}

// Ready reports whether the connection is up.
func (c *Conn) Ready() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.conn != nil && !c.conn.IsClosed()
}

// WaitReady blocks until the connection is up or ctx ends.
func (c *Conn) WaitReady(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !c.Ready() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for rabbitmq: %w", ErrUnavailable)
		case <-t.C:
		}
	}
	return nil
}

// current returns the live connection and its generation.
func (c *Conn) current() (*amqp.Connection, uint64, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.conn == nil || c.conn.IsClosed() {
		return nil, 0, ErrUnavailable
	}
	return c.conn, c.gen, nil
}

// Channel opens a channel on the live connection.
func (c *Conn) Channel() (*amqp.Channel, uint64, error) {
	conn, gen, err := c.current()
	if err != nil {
		return nil, 0, err
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: open channel: %v", ErrUnavailable, err)
	}
	return ch, gen, nil
}

// Close stops reconnecting and closes the connection.
func (c *Conn) Close() error {
	c.stop()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil && !c.conn.IsClosed() {
		return c.conn.Close()
	}
	return nil
}

func (c *Conn) loop(ctx context.Context) {
	defer close(c.done)
	backoff := 100 * time.Millisecond
	for {
		conn, err := c.connect()
		if err != nil {
			c.log.Warn("rabbitmq connect failed, retrying", "error", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		closed := conn.NotifyClose(make(chan *amqp.Error, 1))
		c.mu.Lock()
		c.conn = conn
		c.gen++
		c.mu.Unlock()
		c.log.Info("rabbitmq connected")

		select {
		case <-ctx.Done():
			return
		case err := <-closed:
			c.log.Warn("rabbitmq connection lost, reconnecting", "error", err)
		}
	}
}

func (c *Conn) connect() (*amqp.Connection, error) {
	conn, err := amqp.DialConfig(c.url, amqp.Config{
		Heartbeat: 10 * time.Second,
		Dial:      amqp.DefaultDial(5 * time.Second),
		Properties: amqp.Table{
			"connection_name": "connect-ingest",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("open channel: %w", err)
	}
	defer ch.Close()
	if err := c.topology.Declare(ch); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}
