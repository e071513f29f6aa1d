package queue

import (
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DeliveryLimit is how often a CTR message may be delivered before RabbitMQ
// dead-letters it. The worker holds a message unacked while Temporal is down,
// so redeliveries only come from consumers that died on it: a poison message.
const DeliveryLimit = 20

// Topology is the set of queues a program declares on every (re)connect.
//
// The CTR queue is a quorum queue: it is replicated on a cluster, fsyncs
// before confirming, and counts deliveries, so a message that keeps killing
// consumers is dead-lettered (at-least-once) to DeadLetterName instead of
// looping forever. Those are the guarantees a durable classic queue lacks.
type Topology struct {
	// CTRQueue carries one message per CTR version from gateway to worker.
	CTRQueue string
	// AnalysisQueue carries one job per analysable conversation to the
	// speech-analytics platform; empty where a program does not publish
	// there.
	AnalysisQueue string
}

// DeadLetterName is the queue that receives CTR messages the worker could
// never process; operators inspect it.
func (t Topology) DeadLetterName() string {
	return t.CTRQueue + ".dead"
}

// Declare declares every queue; it is idempotent.
func (t Topology) Declare(ch *amqp.Channel) error {
	quorum := amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}
	if t.AnalysisQueue != "" {
		if _, err := ch.QueueDeclare(t.AnalysisQueue, true, false, false, false, quorum); err != nil {
			return fmt.Errorf("declare queue %s: %w", t.AnalysisQueue, err)
		}
	}
	if t.CTRQueue == "" {
		return nil
	}
	if _, err := ch.QueueDeclare(t.DeadLetterName(), true, false, false, false, quorum); err != nil {
		return fmt.Errorf("declare queue %s: %w", t.DeadLetterName(), err)
	}
	args := amqp.Table{
		amqp.QueueTypeArg:           amqp.QueueTypeQuorum,
		"x-delivery-limit":          DeliveryLimit,
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": t.DeadLetterName(),
		"x-dead-letter-strategy":    "at-least-once",
		amqp.QueueOverflowArg:       amqp.QueueOverflowRejectPublish,
	}
	if _, err := ch.QueueDeclare(t.CTRQueue, true, false, false, false, args); err != nil {
		return fmt.Errorf("declare queue %s: %w", t.CTRQueue, err)
	}
	return nil
}
