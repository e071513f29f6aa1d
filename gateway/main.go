// Command gateway receives Amazon Data Firehose HTTP endpoint deliveries of
// Amazon Connect contact trace records, identifies the tenant by its access
// key, and hands every CTR durably to RabbitMQ before answering 200.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}
