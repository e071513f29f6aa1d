package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// PurgeQuarantineInput names the records past their retention: those
// received before Before.
type PurgeQuarantineInput struct {
	Before time.Time
}

// PurgeQuarantineResult counts the records deleted.
type PurgeQuarantineResult struct {
	Deleted int64
}

// purgeBatch bounds one delete statement, so that a large backlog never
// holds one long transaction.
const purgeBatch = 1000

// PurgeQuarantine deletes every quarantined record received before
// in.Before, a batch at a time, heartbeating its count. It is idempotent: a
// retry deletes what is left.
func (a *Activities) PurgeQuarantine(ctx context.Context, in PurgeQuarantineInput) (PurgeQuarantineResult, error) {
	var res PurgeQuarantineResult
	for {
		n, err := a.Quarantine.Purge(ctx, in.Before, purgeBatch)
		if err != nil {
			return res, err
		}
		res.Deleted += n
		activity.RecordHeartbeat(ctx, res.Deleted)
		if n < purgeBatch {
			return res, nil
		}
	}
}
