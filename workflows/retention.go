package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/store"
)

// RetentionWorkflowID derives the ID of a tenant's retention schedule,
// which is also the ID prefix of the runs it starts.
func RetentionWorkflowID(tenantID string) string {
	return "retention/" + tenantID
}

// TenantRemovalWorkflowID derives the ID of the run that erases a removed
// tenant's conversations.
func TenantRemovalWorkflowID(tenantID string) string {
	return "tenant-removal/" + tenantID
}

// ProgressQuery is the query that returns a retention run's progress.
const ProgressQuery = "progress"

// retentionBatch is how many conversations a retention run erases at
// once; retentionBatchesPerRun how many batches before it continues as new,
// which keeps each run's history small.
const (
	retentionBatch         = 20
	retentionBatchesPerRun = 25
)

// RetentionInput starts, or continues, a run that erases a tenant's
// conversations whose call ended before a cutoff.
type RetentionInput struct {
	TenantID string
	// Kind is EraseByRetention, for the daily run that reads the cutoff
	// from the tenant's retention setting, or EraseTenantRemoval, which
	// erases every conversation and every open conversation workflow.
	Kind string
	// Cutoff is set once the run has read it; a continued run carries it.
	Cutoff time.Time
	// After is the position reached; Progress what was done so far.
	After    store.Ended
	Progress RetentionProgress
	// Swept is true once a tenant removal has looked for open
	// conversation workflows.
	Swept bool
}

// RetentionProgress counts what a retention run has done; the progress
// query returns it.
type RetentionProgress struct {
	Erased int
	Failed int
	// FailedContacts are the first contacts whose erasure failed (up to
	// ten); the next run tries them again.
	FailedContacts []string
	// Through is the end time of the last conversation reached.
	Through time.Time
	// Objects counts the object versions a tenant removal removed last,
	// under the tenant's prefix.
	Objects int `json:",omitempty"`
	// DeadLetters counts the erased contacts' CTRs taken out of the
	// dead-letter queue.
	DeadLetters int `json:",omitempty"`
}

// RetentionResult is a finished run's progress, or why it did nothing.
type RetentionResult struct {
	RetentionProgress
	// Skipped says why nothing was erased (the tenant keeps its
	// conversations).
	Skipped string `json:",omitempty"`
}

// RetentionWorkflow erases a tenant's conversations older than its
// retention, oldest first, in batches; or, for a tenant removal, all of
// them. Its progress shows in the Temporal UI (the run's current details,
// and the progress query). An erasure that fails is counted and left for
// the next run; the run itself always ends.
func RetentionWorkflow(ctx workflow.Context, in RetentionInput) (RetentionResult, error) {
	r := &retentionRun{in: in}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (RetentionProgress, error) { return r.in.Progress, nil }); err != nil {
		return RetentionResult{}, err
	}
	return r.run(ctx)
}

// retentionRun is one run of RetentionWorkflow.
type retentionRun struct {
	in RetentionInput
}

func (r *retentionRun) run(ctx workflow.Context) (RetentionResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	if r.in.Cutoff.IsZero() {
		if r.in.Kind == EraseTenantRemoval {
			r.in.Cutoff = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		} else {
			var plan activities.RetentionPlanResult
			if err := workflow.ExecuteActivity(actx, a.RetentionPlan, activities.RetentionPlanInput{TenantID: r.in.TenantID}).Get(ctx, &plan); err != nil {
				return RetentionResult{}, err
			}
			if plan.Days == 0 {
				return RetentionResult{Skipped: "the tenant keeps its conversations (no retention set)"}, nil
			}
			r.in.Cutoff = plan.Cutoff
		}
	}
	for batch := 0; ; batch++ {
		if batch >= retentionBatchesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return RetentionResult{}, workflow.NewContinueAsNewError(ctx, RetentionWorkflow, r.in)
		}
		contacts, err := r.next(ctx, actx)
		if err != nil {
			return RetentionResult{RetentionProgress: r.in.Progress}, err
		}
		if len(contacts) == 0 {
			if err := r.removeObjects(ctx); err != nil {
				return RetentionResult{RetentionProgress: r.in.Progress}, err
			}
			workflow.SetCurrentDetails(ctx, r.details()+" (done)")
			return RetentionResult{RetentionProgress: r.in.Progress}, nil
		}
		r.erase(ctx, contacts)
		if err := r.sweepDeadLetters(ctx, actx, activities.RemoveDeadLettersInput{TenantID: r.in.TenantID, ContactIDs: contacts}); err != nil {
			return RetentionResult{RetentionProgress: r.in.Progress}, err
		}
		workflow.SetCurrentDetails(ctx, r.details())
	}
}

// next begins the erasure of the next page of conversations, or, once a
// tenant removal is through them, of the tenant's open conversation
// workflows.
func (r *retentionRun) next(ctx, actx workflow.Context) ([]string, error) {
	reason, by := "retention: call ended before "+r.in.Cutoff.Format(time.RFC3339), "retention"
	if r.in.Kind == EraseTenantRemoval {
		reason, by = "tenant removed", "tenant removal"
	}
	var page activities.BeginErasuresResult
	err := workflow.ExecuteActivity(actx, a.BeginErasures, activities.BeginErasuresInput{
		TenantID: r.in.TenantID, Cutoff: r.in.Cutoff, After: r.in.After, Limit: retentionBatch, Reason: reason, RequestedBy: by,
	}).Get(ctx, &page)
	if err != nil {
		return nil, err
	}
	if n := len(page.Contacts); n > 0 {
		r.in.After = page.Contacts[n-1]
		r.in.Progress.Through = r.in.After.At
		ids := make([]string, n)
		for i, c := range page.Contacts {
			ids[i] = c.ContactID
		}
		return ids, nil
	}
	if r.in.Kind != EraseTenantRemoval || r.in.Swept {
		return nil, nil
	}
	r.in.Swept = true
	var open activities.RunningConversationsResult
	err = workflow.ExecuteActivity(actx, a.RunningConversations, activities.RunningConversationsInput{
		TenantID: r.in.TenantID, IDPrefix: ConversationWorkflowID(r.in.TenantID, ""), Limit: 1000, Reason: reason, RequestedBy: by,
	}).Get(ctx, &open)
	return open.ContactIDs, err
}

// tenantObjectsChange marks the runs that end a tenant removal by removing
// what MinIO still holds under the tenant's prefix; runs begun before it
// end as they did.
const tenantObjectsChange = "tenant-removal-objects"

// deadLettersChange marks the runs that take each batch's dead letters out
// of the dead-letter queue, in one sweep a batch.
const deadLettersChange = "retention-dead-letters"

// sweepDeadLetters takes erased contacts' CTRs out of the dead-letter queue
// once for a batch: one pass over the queue for twenty erasures, where each
// erasure on request makes its own. A sweep also takes what a failed one
// left of the tenant's erased contacts.
func (r *retentionRun) sweepDeadLetters(ctx, actx workflow.Context, in activities.RemoveDeadLettersInput) error {
	if workflow.GetVersion(ctx, deadLettersChange, workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	var res activities.RemoveDeadLettersResult
	err := workflow.ExecuteActivity(actx, a.RemoveDeadLetters, in).Get(ctx, &res)
	r.in.Progress.DeadLetters += res.Removed
	return err
}

// removeObjects ends a tenant removal: every object left under the tenant's
// prefix goes, those no row named included, and so does every dead letter
// of the tenant.
func (r *retentionRun) removeObjects(ctx workflow.Context) error {
	if r.in.Kind != EraseTenantRemoval || workflow.GetVersion(ctx, tenantObjectsChange, workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	octx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	var res activities.RemoveTenantObjectsResult
	err := workflow.ExecuteActivity(octx, a.RemoveTenantObjects, activities.RemoveTenantObjectsInput{TenantID: r.in.TenantID}).Get(ctx, &res)
	r.in.Progress.Objects += res.Removed
	if err != nil {
		return err
	}
	return r.sweepDeadLetters(ctx, octx, activities.RemoveDeadLettersInput{TenantID: r.in.TenantID, WholeTenant: true})
}

// erase erases contacts, retentionBatch at a time side by side, and counts
// the outcomes.
func (r *retentionRun) erase(ctx workflow.Context, contacts []string) {
	for len(contacts) > retentionBatch {
		r.erase(ctx, contacts[:retentionBatch])
		contacts = contacts[retentionBatch:]
	}
	futures := make([]workflow.Future, len(contacts))
	for i, c := range contacts {
		f, set := workflow.NewFuture(ctx)
		workflow.Go(ctx, func(gctx workflow.Context) {
			_, err := eraseContact(gctx, EraseInput{TenantID: r.in.TenantID, ContactID: c, Kind: r.in.Kind})
			set.Set(nil, err)
		})
		futures[i] = f
	}
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("erasure failed; the next run tries again", "tenant_id", r.in.TenantID, "contact_id", contacts[i], "error", err)
			r.in.Progress.Failed++
			if len(r.in.Progress.FailedContacts) < 10 {
				r.in.Progress.FailedContacts = append(r.in.Progress.FailedContacts, contacts[i])
			}
			continue
		}
		r.in.Progress.Erased++
	}
}

// details is the run's progress as the Temporal UI shows it.
func (r *retentionRun) details() string {
	p := r.in.Progress
	s := fmt.Sprintf("%d erased, %d failed", p.Erased, p.Failed)
	if !p.Through.IsZero() {
		s += "; through calls that ended " + p.Through.UTC().Format(time.RFC3339)
	}
	return s
}
