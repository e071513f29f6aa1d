package operations_test

import (
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
)

func TestEnsureQuarantineRetention(t *testing.T) {
	tc := testenv.Temporal(t)
	queue := "retention-" + testenv.Suffix()
	id := workflows.QuarantineRetentionID(queue)
	t.Cleanup(func() { _ = tc.ScheduleClient().GetHandle(t.Context(), id).Delete(t.Context()) })

	retention := func(t *testing.T) time.Duration {
		t.Helper()
		d, err := tc.ScheduleClient().GetHandle(t.Context(), id).Describe(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		action := d.Schedule.Action.(*client.ScheduleWorkflowAction)
		var in workflows.QuarantineRetentionInput
		p, ok := action.Args[0].(*commonpb.Payload)
		if !ok {
			t.Fatalf("argument %T", action.Args[0])
		}
		if err := converter.GetDefaultDataConverter().FromPayload(p, &in); err != nil {
			t.Fatal(err)
		}
		if d.Schedule.Spec.Intervals[0].Every != time.Hour || action.TaskQueue != queue {
			t.Fatalf("schedule %+v on %s", d.Schedule.Spec, action.TaskQueue)
		}
		return in.Retention
	}

	for _, step := range []struct {
		name      string
		retention time.Duration
		want      operations.ScheduleOutcome
	}{
		{"the first call creates the hourly schedule", 720 * time.Hour, operations.ScheduleCreated},
		{"the same settings change nothing", 720 * time.Hour, operations.ScheduleUnchanged},
		{"a new retention updates it in place", 24 * time.Hour, operations.ScheduleUpdated},
	} {
		t.Run(step.name, func(t *testing.T) {
			got, err := operations.EnsureQuarantineRetention(t.Context(), tc, queue, step.retention)
			if err != nil || got != step.want {
				t.Fatalf("outcome %q, %v; want %q", got, err, step.want)
			}
			if r := retention(t); r != step.retention {
				t.Fatalf("the schedule keeps %s, want %s", r, step.retention)
			}
		})
	}
}
