// Command connectsim stands in for Amazon Connect locally: it generates a
// realistic day of contacts, writes their recordings into the S3 stand-in,
// and posts their CTRs to the gateway exactly as Kinesis Data Firehose does.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "connectsim:", err)
		os.Exit(1)
	}
}

// app holds what every command shares.
type app struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// run executes one command line; tests call it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a := &app{getenv: getenv, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "connectsim",
		Short:         "A local stand-in for Amazon Connect, its S3 recordings and its Firehose stream",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(a.dayCmd(), a.serveCmd(), a.s3RoleCmd())
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}
