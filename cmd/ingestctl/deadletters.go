package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/queue"
)

func (a *app) deadlettersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "deadletters", Short: "Inspect CTR messages the worker could never process"}
	cmd.AddCommand(a.deadlettersListCmd())
	return cmd
}

// deadLetterJSON is the stable JSON form of a dead-lettered message.
type deadLetterJSON struct {
	MessageID string    `json:"messageId"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Reason    string    `json:"reason"`
	Body      string    `json:"body"`
}

func (a *app) deadlettersListCmd() *cobra.Command {
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List dead-lettered CTR messages without removing them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name := queue.Topology{CTRQueue: a.cfg.CTRQueue}.DeadLetterName()
			conn, err := amqp.Dial(a.cfg.AMQPURL)
			if err != nil {
				return fmt.Errorf("connect to rabbitmq: %w", err)
			}
			defer conn.Close()
			ch, err := conn.Channel()
			if err != nil {
				return fmt.Errorf("open channel: %w", err)
			}
			// Messages are fetched unacknowledged and returned to the queue
			// when the channel closes: listing never removes anything.
			defer ch.Close()
			var out []deadLetterJSON
			for len(out) < limit {
				d, ok, err := ch.Get(name, false)
				if err != nil {
					return fmt.Errorf("read %s: %w", name, err)
				}
				if !ok {
					break
				}
				reason := ""
				if deaths, ok := d.Headers["x-death"].([]any); ok && len(deaths) > 0 {
					if death, ok := deaths[0].(amqp.Table); ok {
						reason = fmt.Sprint(death["reason"])
					}
				}
				out = append(out, deadLetterJSON{MessageID: d.MessageId, Type: d.Type, Timestamp: d.Timestamp, Reason: reason, Body: string(d.Body)})
			}
			if asJSON {
				if out == nil {
					out = []deadLetterJSON{}
				}
				return a.printJSON(out)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "MESSAGE ID\tTYPE\tREASON\tBODY\n")
			for _, m := range out {
				fmt.Fprintf(w, "%s\t%s\t%s\t%.80q\n", dash(m.MessageID), dash(m.Type), dash(m.Reason), m.Body)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d dead-lettered messages shown from %s\n", len(out), name)
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many messages")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
