package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/workflows"
)

func TestQuarantineRetentionWorkflow(t *testing.T) {
	t.Run("purges what was received before now minus the retention", func(t *testing.T) {
		h := newHarness(t)
		h.env.RegisterWorkflow(workflows.QuarantineRetentionWorkflow)
		start := h.env.Now()
		var before time.Time
		h.env.OnActivity(a.PurgeQuarantine, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PurgeQuarantineInput) (activities.PurgeQuarantineResult, error) {
			before = in.Before
			return activities.PurgeQuarantineResult{Deleted: 7}, nil
		}).Once()
		h.env.ExecuteWorkflow(workflows.QuarantineRetentionWorkflow, workflows.QuarantineRetentionInput{Retention: 720 * time.Hour})
		var res workflows.QuarantineRetentionResult
		if err := h.env.GetWorkflowResult(&res); err != nil || res.Deleted != 7 {
			t.Fatalf("result = %+v, %v", res, err)
		}
		if got := start.Sub(before); got != 720*time.Hour {
			t.Fatalf("cut-off %v before the run, want 720h", got)
		}
	})
}
