package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/operations"
)

func (a *app) tenantsUpdateCmd() *cobra.Command {
	var flags *tenantFlags
	cmd := &cobra.Command{
		Use:   "update TENANT",
		Short: "Change a tenant's settings (only the flags given) and bring its agent-sync schedule in line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, tenants, err := a.tenant(ctx, args[0])
			if err != nil {
				return err
			}
			if err := flags.apply(&t, false); err != nil {
				return err
			}
			if err := tenants.Update(ctx, t); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "tenant %s updated\n", t.ID)
			return a.saveSchedule(ctx, t)
		},
	}
	flags = newTenantFlags(cmd.Flags(), true)
	return cmd
}

// tenantShowJSON is the stable JSON form of `tenants show`.
type tenantShowJSON struct {
	tenantJSON
	Agents   agentCountsJSON `json:"agents"`
	Schedule *scheduleJSON   `json:"schedule"`
}

type agentCountsJSON struct {
	Active   int `json:"active"`
	Inactive int `json:"inactive"`
}

func (a *app) tenantsShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show TENANT",
		Short: "Show a tenant's settings, its agents and its agent-sync schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, tenants, err := a.tenant(ctx, args[0])
			if err != nil {
				return err
			}
			fp, err := tenants.Footprint(ctx, t.ID)
			if err != nil {
				return err
			}
			out := tenantShowJSON{tenantJSON: toTenantJSON(t), Agents: agentCountsJSON{Active: fp.ActiveAgents, Inactive: fp.InactiveAgents}}
			out.Schedule, err = a.describeSchedule(ctx, t.ID)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(out)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
			row("id", t.ID)
			row("name", t.Name)
			row("instance", t.InstanceARN)
			row("recording buckets", dash(strings.Join(t.RecordingBuckets, ", ")))
			row("aws access", awsAccess(t))
			row("connect endpoint", orDefault(t.ConnectEndpointURL, "Amazon Connect in the instance's region"))
			row("agents", fmt.Sprintf("%d active, %d inactive; filter: %s", fp.ActiveAgents, fp.InactiveAgents, out.AgentFilter.String()))
			row("agent sync", syncSummary(t))
			row("schedule", out.Schedule.summary())
			row("conversations", fmt.Sprint(fp.Conversations))
			row("created", out.CreatedAt)
			row("updated", out.UpdatedAt)
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (stable)")
	return cmd
}

func (a *app) tenantsRemoveCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove TENANT",
		Short: "Delete a tenant's agent-sync schedule, then the tenant with its keys, agents, conversations and quarantined records",
		Long: "Delete a tenant's agent-sync schedule, then the tenant with its keys, agents, conversations and quarantined records.\n" +
			"Recordings already copied into MinIO stay under the tenant's prefix; the platform's retention removes them.\n" +
			"Without --yes it prints what would be deleted and stops.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			_, tenants, err := a.tenant(ctx, args[0])
			if err != nil {
				return err
			}
			fp, err := tenants.Footprint(ctx, args[0])
			if err != nil {
				return err
			}
			what := fmt.Sprintf("tenant %s with %d conversations, %d agents and %d quarantined records", args[0],
				fp.Conversations, fp.ActiveAgents+fp.InactiveAgents, fp.Rejected)
			if !yes {
				return fmt.Errorf("this would delete %s; run again with --yes to do it", what)
			}
			c, err := a.temporal(ctx)
			if err != nil {
				return fmt.Errorf("nothing deleted: %w", err)
			}
			// The schedule goes first: a sync started for a deleted tenant
			// would only fail.
			if err := operations.DeleteAgentSync(ctx, c, args[0]); err != nil {
				return err
			}
			if err := tenants.Delete(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "deleted %s and its agent-sync schedule\n", what)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "really delete")
	return cmd
}

// saveSchedule brings the tenant's agent-sync schedule in line with its
// settings, just after they were stored.
func (a *app) saveSchedule(ctx context.Context, t tenant.Tenant) error {
	c, err := a.temporal(ctx)
	if err == nil {
		var outcome operations.ScheduleOutcome
		outcome, err = operations.EnsureAgentSync(ctx, c, a.cfg.TaskQueue, t)
		if err == nil {
			fmt.Fprintf(a.stdout, "agent-sync schedule %s %s (%s)\n", operations.AgentSyncID(t.ID), outcome, syncSummary(t))
			return nil
		}
	}
	return fmt.Errorf("the tenant's settings are saved but its agent-sync schedule is not; run `ingestctl setup` once Temporal is reachable: %w", err)
}

// reconcileSchedules brings every tenant's schedule in line with its
// settings, for tenants saved while Temporal was unreachable.
func (a *app) reconcileSchedules(ctx context.Context) error {
	c, err := a.temporal(ctx)
	if err != nil {
		return err
	}
	ts, err := store.NewTenants(a.pool).List(ctx)
	if err != nil {
		return err
	}
	counts := map[operations.ScheduleOutcome]int{}
	for _, t := range ts {
		outcome, err := operations.EnsureAgentSync(ctx, c, a.cfg.TaskQueue, t)
		if err != nil {
			return err
		}
		counts[outcome]++
	}
	fmt.Fprintf(a.stdout, "agent-sync schedules: %d created, %d updated, %d unchanged\n",
		counts[operations.ScheduleCreated], counts[operations.ScheduleUpdated], counts[operations.ScheduleUnchanged])
	return nil
}

// scheduleJSON is what `tenants show` reports of the agent-sync schedule.
type scheduleJSON struct {
	ID         string     `json:"id"`
	Paused     bool       `json:"paused"`
	Note       string     `json:"note"`
	Every      string     `json:"every"`
	NextRun    *time.Time `json:"nextRun"`
	LastRun    *time.Time `json:"lastRun"`
	Running    int        `json:"running"`
	TotalRuns  int        `json:"totalRuns"`
	TemporalUI string     `json:"temporalUrl"`
}

// describeSchedule reads the tenant's schedule; nil when there is none.
func (a *app) describeSchedule(ctx context.Context, tenantID string) (*scheduleJSON, error) {
	c, err := a.temporal(ctx)
	if err != nil {
		return nil, err
	}
	d, err := operations.DescribeAgentSync(ctx, c, tenantID)
	if err != nil || d == nil {
		return nil, err
	}
	s := &scheduleJSON{
		ID: operations.AgentSyncID(tenantID), Running: len(d.Info.RunningWorkflows), TotalRuns: d.Info.NumActions,
		TemporalUI: fmt.Sprintf("%s/namespaces/%s/schedules/%s", a.cfg.TemporalUI, a.cfg.Namespace, operations.AgentSyncID(tenantID)),
	}
	if st := d.Schedule.State; st != nil {
		s.Paused, s.Note = st.Paused, st.Note
	}
	if sp := d.Schedule.Spec; sp != nil && len(sp.Intervals) > 0 {
		s.Every = sp.Intervals[0].Every.String()
	}
	if len(d.Info.NextActionTimes) > 0 {
		s.NextRun = &d.Info.NextActionTimes[0]
	}
	if n := len(d.Info.RecentActions); n > 0 {
		s.LastRun = &d.Info.RecentActions[n-1].ActualTime
	}
	return s, nil
}

func (s *scheduleJSON) summary() string {
	if s == nil {
		return "none (run `ingestctl setup` to create it)"
	}
	state := "every " + s.Every
	if s.Paused {
		state = "paused (" + s.Note + ")"
	}
	next := "-"
	if s.NextRun != nil && !s.Paused {
		next = s.NextRun.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s, %s; next run %s, last run %s, %d runs; %s", s.ID, state, next, ts(s.LastRun), s.TotalRuns, s.TemporalUI)
}

func awsAccess(t tenant.Tenant) string {
	access := "default credential chain"
	if t.AWSRoleARN != "" {
		access = "assume " + t.AWSRoleARN
		if t.AWSExternalID != "" {
			access += " (with external ID)"
		}
	}
	if t.AWSEndpointURL != "" {
		access += ", endpoint " + t.AWSEndpointURL
	}
	return access
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
