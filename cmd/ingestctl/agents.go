package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
)

func (a *app) agentsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "agents", Short: "See and sync a tenant's agents (its Amazon Connect users)"}
	cmd.AddCommand(a.agentsSyncCmd(), a.agentsListCmd())
	return cmd
}

func (a *app) agentsSyncCmd() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "sync TENANT",
		Short: "Trigger the tenant's agent-sync schedule now and wait for the run's result",
		Long: "Trigger the tenant's agent-sync schedule now and wait for the run's result. A run already in progress\n" +
			"finishes first: two syncs of one tenant never overlap.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			t, _, err := a.tenant(ctx, args[0])
			if err != nil {
				return err
			}
			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			run, err := operations.RunAgentSync(ctx, c, a.cfg.TaskQueue, t)
			if err != nil {
				return err
			}
			r := run.Result
			fmt.Fprintf(a.stdout, "agent sync of %s done (%s): %d users listed over %d pages, %d described, %d agents kept, %d deactivated\n",
				t.ID, run.WorkflowID, r.Listed, r.Pages, r.Described, r.Kept, r.Deactivated)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "give up waiting after this long (the run itself goes on)")
	return cmd
}

func (a *app) agentsListCmd() *cobra.Command {
	var asJSON, activeOnly bool
	cmd := &cobra.Command{
		Use:   "list TENANT",
		Short: "List a tenant's agents, active and inactive, by username",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, _, err := a.tenant(ctx, args[0]); err != nil {
				return err
			}
			all, err := store.NewAgents(a.pool).List(ctx, args[0])
			if err != nil {
				return err
			}
			list := make([]store.Agent, 0, len(all))
			for _, ag := range all {
				if ag.Active || !activeOnly {
					list = append(list, ag)
				}
			}
			if asJSON {
				return a.printJSON(list)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "USERNAME\tNAME\tEMAIL\tROUTING PROFILE\tHIERARCHY GROUP\tACTIVE\tSTATUS\tLAST LOGIN\tLAST LOGOUT\tSYNCED\tUSER ID")
			for _, ag := range list {
				status := dash(ag.Status)
				if ag.StatusAt != nil {
					status += " since " + ts(ag.StatusAt)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%t\t%s\t%s\t%s\t%s\t%s\n", ag.Username, dash(joinName(ag.FirstName, ag.LastName)), dash(ag.Email),
					dash(ag.RoutingProfileID), dash(ag.HierarchyGroupID), ag.Active, status, ts(ag.LastLoginAt), ts(ag.LastLogoutAt), ts(ag.SyncedAt), ag.UserID)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (stable; see the README)")
	cmd.Flags().BoolVar(&activeOnly, "active", false, "only active agents")
	return cmd
}

func joinName(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	}
	return first + " " + last
}
