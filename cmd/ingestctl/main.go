// Command ingestctl is the operator's tool for connect-ingest: it applies
// migrations, manages tenants and their Firehose access keys, and lists
// quarantined records.
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
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ingestctl:", err)
		os.Exit(1)
	}
}
