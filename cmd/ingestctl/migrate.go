package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
)

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create the database where missing and apply pending migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			n, err := store.Migrate(cmd.Context(), pool)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "migrations: %d applied\n", n)
			return nil
		},
	}
}

func (a *app) setupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "setup",
		Short: "Migrate the database, register Temporal search attributes and keep the schedules in line (idempotent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pool, err := a.db(ctx)
			if err != nil {
				return err
			}
			n, err := store.Migrate(ctx, pool)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "migrations: %d applied\n", n)

			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			added, err := temporalx.EnsureSearchAttributes(ctx, c, a.cfg.Namespace, workflows.SearchAttributes())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "search attributes: %d added, %d registered\n", len(added), len(workflows.SearchAttributes()))
			outcome, err := operations.EnsureQuarantineRetention(ctx, c, a.cfg.TaskQueue, a.cfg.QuarantineRetention)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "quarantine-retention schedule: %s (records kept %s)\n", outcome, a.cfg.QuarantineRetention)
			return a.reconcileSchedules(ctx)
		},
	}
}
