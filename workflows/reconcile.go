package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/store"
)

// ReconcileScheduleID derives the ID of a tenant's nightly reconciliation
// schedule, which is also the ID prefix of the runs it starts.
func ReconcileScheduleID(tenantID string) string {
	return "reconcile/" + tenantID
}

// BackfillWorkflowID derives the ID of a backfill over a range: the same
// range asked again joins the run under way.
func BackfillWorkflowID(tenantID string, from, to time.Time, dryRun bool) string {
	id := "backfill/" + tenantID + "/" + from.UTC().Format(time.RFC3339) + "/" + to.UTC().Format(time.RFC3339)
	if dryRun {
		id += "/dry-run"
	}
	return id
}

// The kinds of reconciliation run.
const (
	ReconcileNightly  = "nightly"
	ReconcileBackfill = "backfill"
)

// reconcilePagesPerRun is how many pages of 100 contacts a run reads before
// it continues as new, which keeps each run's history small.
const reconcilePagesPerRun = 50

// ReconcileInput starts, or continues, a reconciliation of a tenant's
// contacts that ended between From and To. A nightly run leaves them zero
// and takes the window from the worker's settings.
type ReconcileInput struct {
	TenantID string
	Kind     string
	From, To time.Time
	// DryRun counts what would be recovered, and recovers nothing.
	DryRun bool
	// RunID is the workflow ID and first run ID, the key of the run's
	// record;
	// NextToken and Counts are the position and totals a continued run
	// carries.
	RunID     string
	NextToken string
	Counts    store.ReconcileCounts
}

// ReconcileResult is a finished run's totals, and the hours in which the
// tenant's stream was quiet (Connect had calls, Firehose delivered none).
type ReconcileResult struct {
	RunID      string
	From, To   time.Time
	Counts     store.ReconcileCounts
	QuietHours int
	QuietFrom  *time.Time
}

// ReconcileWorkflow compares the contacts Amazon Connect reports for a
// window (SearchContacts, page by page under the tenant's API limiter) with
// what connect-ingest holds, and recovers each one missing through its
// conversation workflow. Its progress shows in the Temporal UI (the run's
// current details, and the progress query); it resumes where it stopped
// after a restart, and it never doubles what is there.
func ReconcileWorkflow(ctx workflow.Context, in ReconcileInput) (ReconcileResult, error) {
	r := &reconcileRun{in: in}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (store.ReconcileCounts, error) { return r.in.Counts, nil }); err != nil {
		return ReconcileResult{}, err
	}
	return r.run(ctx)
}

// reconcileRun is one run of ReconcileWorkflow.
type reconcileRun struct {
	in ReconcileInput
}

func (r *reconcileRun) run(ctx workflow.Context) (ReconcileResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	// A page describes up to 100 contacts under a quota of a few requests
	// a second: minutes, heartbeating per contact, so that a page a
	// crashed worker held is tried again within seconds.
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: 2 * time.Minute, MaximumAttempts: 10},
	})
	if r.in.RunID == "" {
		// The workflow ID names the range; its first run's ID tells one
		// backfill of it from another.
		exec := workflow.GetInfo(ctx).WorkflowExecution
		r.in.RunID = exec.ID + "@" + exec.RunID
		if r.in.From.IsZero() {
			var plan activities.ReconcilePlanResult
			if err := workflow.ExecuteActivity(actx, a.ReconcilePlan, activities.ReconcilePlanInput{TenantID: r.in.TenantID}).Get(ctx, &plan); err != nil {
				return ReconcileResult{}, err
			}
			r.in.From, r.in.To = plan.From, plan.To
		}
		err := workflow.ExecuteActivity(actx, a.BeginReconciliation, activities.BeginReconciliationInput{
			TenantID: r.in.TenantID, RunID: r.in.RunID, Kind: r.in.Kind, From: r.in.From, To: r.in.To, DryRun: r.in.DryRun,
		}).Get(ctx, nil)
		if err != nil {
			return ReconcileResult{}, err
		}
	}
	for page := 0; ; page++ {
		if page >= reconcilePagesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return ReconcileResult{}, workflow.NewContinueAsNewError(ctx, ReconcileWorkflow, r.in)
		}
		var res activities.ReconcilePageResult
		err := workflow.ExecuteActivity(pctx, a.ReconcilePage, activities.ReconcilePageInput{
			TenantID: r.in.TenantID, RunID: r.in.RunID, From: r.in.From, To: r.in.To, NextToken: r.in.NextToken,
			DryRun: r.in.DryRun, Before: r.in.Counts,
		}).Get(ctx, &res)
		if err != nil {
			return ReconcileResult{}, err
		}
		r.in.Counts = r.in.Counts.Add(res.Counts)
		r.in.NextToken = res.NextToken
		workflow.SetCurrentDetails(ctx, r.details())
		if res.NextToken == "" {
			break
		}
	}
	var fin activities.FinishReconciliationResult
	err := workflow.ExecuteActivity(actx, a.FinishReconciliation, activities.FinishReconciliationInput{
		TenantID: r.in.TenantID, RunID: r.in.RunID, From: r.in.From, To: r.in.To, DryRun: r.in.DryRun, Counts: r.in.Counts,
	}).Get(ctx, &fin)
	if err != nil {
		return ReconcileResult{}, err
	}
	r.in.Counts = fin.Counts
	workflow.SetCurrentDetails(ctx, r.details()+" (done)")
	return ReconcileResult{RunID: r.in.RunID, From: r.in.From, To: r.in.To, Counts: r.in.Counts,
		QuietHours: fin.QuietHours, QuietFrom: fin.QuietFrom}, nil
}

// details is the run's progress as the Temporal UI shows it.
func (r *reconcileRun) details() string {
	c := r.in.Counts
	verb := "recovered"
	if r.in.DryRun {
		verb = "would recover"
	}
	return fmt.Sprintf("%s to %s: %d contacts in Connect, %d present, %d %s, %d unrecoverable, %d erased",
		r.in.From.UTC().Format(time.RFC3339), r.in.To.UTC().Format(time.RFC3339), c.Seen, c.Present, c.Recovered, verb, c.Unrecoverable,
		c.Erased)
}
