package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
)

// QuarantineRetentionID derives the ID of the quarantine clean-up's
// schedule, one per deployment (its task queue), which is also the ID
// prefix of the workflows it starts.
func QuarantineRetentionID(taskQueue string) string {
	return "quarantine-retention/" + taskQueue
}

// QuarantineRetentionInput says how long quarantined records are kept.
type QuarantineRetentionInput struct {
	Retention time.Duration
}

// QuarantineRetentionResult counts the records the run deleted.
type QuarantineRetentionResult struct {
	Deleted int64
}

// QuarantineRetentionWorkflow deletes the quarantined records older than
// the retention period. A schedule runs it every hour; each run is bounded
// (ten attempts of at most ten minutes), and what one leaves, the next
// deletes.
func QuarantineRetentionWorkflow(ctx workflow.Context, in QuarantineRetentionInput) (QuarantineRetentionResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	before := workflow.Now(ctx).Add(-in.Retention)
	var out activities.PurgeQuarantineResult
	err := workflow.ExecuteActivity(ctx, a.PurgeQuarantine, activities.PurgeQuarantineInput{Before: before}).Get(ctx, &out)
	return QuarantineRetentionResult{Deleted: out.Deleted}, err
}
