package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
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
	// Completeness is the last finished reconciliation's finding; null
	// before the first.
	Completeness *reconciliationJSON `json:"completeness"`
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
			recs := store.NewReconciliations(a.pool)
			last, err := recs.LastFinished(ctx, t.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil {
				// Contacts the run recovered are analysed after it ends:
				// count the window's analysed conversations as they are now.
				if last.Analysed, err = recs.Analysed(ctx, t.ID, last.From, last.To); err != nil {
					return err
				}
			}
			completeness := "no reconciliation yet (nightly at 01:15 UTC; ingestctl reconcile run)"
			if err == nil {
				out.Completeness = &reconciliationJSON{RunID: last.RunID, Kind: last.Kind, From: last.From, To: last.To, StartedAt: last.StartedAt,
					FinishedAt: last.FinishedAt, Reported: last.Seen, Present: last.Present, Recovered: last.Recovered,
					Unrecoverable: last.Unrecoverable, Analysed: last.Analysed, Erased: last.Erased, QuietHours: last.QuietHours,
					QuietFrom: last.QuietFrom, Missing: []reconciledContactJSON{}}
				completeness = fmt.Sprintf("%s to %s: Connect reported %d, ingested %d (%d recovered), analysed %d, missing %d, erased %d",
					last.From.Format(time.RFC3339), last.To.Format(time.RFC3339), last.Seen, last.Present+last.Recovered, last.Recovered,
					last.Analysed, last.Unrecoverable, last.Erased)
				if last.QuietHours > 0 {
					completeness += fmt.Sprintf("; STREAM QUIET for %d hours from %s (Connect had calls, Firehose delivered none)",
						last.QuietHours, last.QuietFrom.UTC().Format(time.RFC3339))
				}
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
			for _, in := range t.Instances {
				label := "also instance"
				if in.ReplicaOf != "" {
					label = "replica instance"
				}
				row(label, in.ARN+" (buckets: "+dash(strings.Join(in.RecordingBuckets, ", "))+")")
			}
			row("aws access", awsAccess(t))
			row("connect endpoint", orDefault(t.ConnectEndpointURL, "Amazon Connect in the instance's region"))
			row("agents", fmt.Sprintf("%d active, %d inactive; filter: %s", fp.ActiveAgents, fp.InactiveAgents, out.AgentFilter.String()))
			row("agent sync", syncSummary(t))
			row("retention", retentionSummary(t))
			row("erased contacts", fmt.Sprint(fp.Erased))
			row("completeness", completeness)
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
	var yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "remove TENANT",
		Short: "Remove a tenant: cancel its running calls, erase every call's data, then delete the tenant",
		Long: "Remove a tenant. Its access keys are revoked at once, so the gateway refuses its deliveries, and its\n" +
			"agent-sync and retention schedules are deleted. Then every one of its calls is erased as `calls erase` does\n" +
			"(running calls are cancelled first; recordings leave MinIO, histories leave Temporal, the platform is sent\n" +
			"retractions), with a progress bar; last, the tenant goes with its agents and quarantined records.\n" +
			"Tombstones of its erased contacts stay. --dry-run, or no --yes, says what would go and does nothing.",
		Args: cobra.ExactArgs(1),
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
			fmt.Fprintf(a.stdout, "tenant %s: %d conversations (%d unfinished, cancelled first), %d recordings in MinIO, "+
				"%d agents and %d quarantined records would go\n", t.ID, fp.Conversations, fp.Unfinished, fp.Recordings,
				fp.ActiveAgents+fp.InactiveAgents, fp.Rejected)
			if dryRun {
				fmt.Fprintln(a.stdout, "dry run: nothing done")
				return nil
			}
			if !yes {
				return fmt.Errorf("nothing done: run again with --yes to remove tenant %s and erase all of it", t.ID)
			}
			c, err := a.temporal(ctx)
			if err != nil {
				return fmt.Errorf("nothing deleted: %w", err)
			}
			a.noteCall("", fmt.Sprintf("%d conversations", fp.Conversations))
			return a.removeTenant(ctx, c, tenants, t.ID, fp)
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "really remove")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would go, and do nothing")
	return cmd
}

// removeTenant stops the tenant's intake, erases everything it has through
// a tenant-removal run, and deletes the tenant.
func (a *app) removeTenant(ctx context.Context, c client.Client, tenants *store.Tenants, id string, fp store.Footprint) error {
	keys, err := tenants.Keys(ctx, id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.RevokedAt == nil {
			if err := tenants.RevokeKey(ctx, id, k.KeyID); err != nil {
				return err
			}
		}
	}
	// The schedules go first: a sync or retention run for a tenant being
	// removed would only fail.
	if err := operations.DeleteAgentSync(ctx, c, id); err != nil {
		return err
	}
	if err := operations.DeleteRetention(ctx, c, id); err != nil {
		return err
	}
	if err := operations.DeleteReconcile(ctx, c, id); err != nil {
		return err
	}
	run, err := operations.StartTenantRemoval(ctx, c, a.cfg.TaskQueue, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "erasing %s's conversations: %s\n", id, run.WorkflowID)
	res, err := a.followRetention(ctx, c, run, fp.Conversations, "erase")
	if err != nil {
		return err
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d erasures failed (first: %s); the tenant is kept: run remove again", res.Failed,
			strings.Join(res.FailedContacts, ", "))
	}
	if err := tenants.Delete(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "removed tenant %s: %d conversations erased; its schedules, keys, agents and quarantined records deleted\n",
		id, res.Erased)
	return nil
}

// followRetention waits for a retention or tenant-removal run, with a
// progress bar over the expected number of conversations.
func (a *app) followRetention(ctx context.Context, c client.Client, run operations.RetentionRun, expected int, verb string) (workflows.RetentionResult, error) {
	bar := progressbar.NewOptions(max(expected, 1), progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription(verb),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	res, err := operations.WaitRetention(ctx, c, run, func(p workflows.RetentionProgress) {
		_ = bar.Set(p.Erased + p.Failed)
	})
	_ = bar.Finish()
	return res, err
}

func (a *app) tenantsRetentionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention-run TENANT",
		Short: "Run the tenant's retention now: erase its calls that ended longer ago than its retention period",
		Long: "Trigger the tenant's daily retention schedule now and follow the run to its end. It erases, as `calls erase`\n" +
			"does, each call that ended longer ago than the tenant's retention (tenants update --retention 90d).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, tenants, err := a.tenant(ctx, args[0])
			if err != nil {
				return err
			}
			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			run, err := operations.RunRetention(ctx, c, a.cfg.TaskQueue, t)
			if err != nil {
				return err
			}
			fp, err := tenants.Footprint(ctx, t.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "retention run %s (calls that ended over %s ago)\n", run.WorkflowID, tenant.FormatRetention(t.RetentionDays))
			res, err := a.followRetention(ctx, c, run, fp.Conversations, "erase")
			if err != nil {
				return err
			}
			if res.Skipped != "" {
				fmt.Fprintf(a.stdout, "nothing erased: %s\n", res.Skipped)
				return nil
			}
			fmt.Fprintf(a.stdout, "%d erased, %d failed\n", res.Erased, res.Failed)
			if res.Failed > 0 {
				return fmt.Errorf("%d erasures failed (first: %s); the next run tries them again", res.Failed, strings.Join(res.FailedContacts, ", "))
			}
			return nil
		},
	}
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
			outcome, err = operations.EnsureRetention(ctx, c, a.cfg.TaskQueue, t)
		}
		if err == nil && outcome != operations.ScheduleUnchanged {
			fmt.Fprintf(a.stdout, "retention schedule %s %s (retention %s)\n", operations.RetentionID(t.ID), outcome, tenant.FormatRetention(t.RetentionDays))
		}
		if err == nil {
			outcome, err = operations.EnsureReconcile(ctx, c, a.cfg.TaskQueue, t)
		}
		if err == nil {
			if outcome != operations.ScheduleUnchanged {
				fmt.Fprintf(a.stdout, "reconciliation schedule %s %s (nightly)\n", operations.ReconcileID(t.ID), outcome)
			}
			return nil
		}
	}
	return fmt.Errorf("the tenant's settings are saved but its schedules are not; run `ingestctl setup` once Temporal is reachable: %w", err)
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
		if _, err := operations.EnsureRetention(ctx, c, a.cfg.TaskQueue, t); err != nil {
			return err
		}
		if _, err := operations.EnsureReconcile(ctx, c, a.cfg.TaskQueue, t); err != nil {
			return err
		}
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
