package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/workflows"
)

// reconcileFake plays Connect's pages for ReconcileWorkflow: pages of
// (seen, missing) counts, each page's token its index.
type reconcileFake struct {
	pages    [][2]int
	inputs   []activities.ReconcilePageInput
	begun    []activities.BeginReconciliationInput
	finished []activities.FinishReconciliationInput
}

func (f *reconcileFake) install(h *harness) {
	h.env.RegisterWorkflow(workflows.ReconcileWorkflow)
	h.env.OnActivity(a.ReconcilePlan, mock.Anything, mock.Anything).Return(activities.ReconcilePlanResult{
		From: time.Date(2026, 12, 1, 0, 15, 0, 0, time.UTC), To: time.Date(2026, 12, 2, 0, 15, 0, 0, time.UTC)}, nil).Maybe()
	h.env.OnActivity(a.BeginReconciliation, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BeginReconciliationInput) (activities.BeginReconciliationResult, error) {
		f.begun = append(f.begun, in)
		return activities.BeginReconciliationResult{}, nil
	}).Maybe()
	h.env.OnActivity(a.ReconcilePage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ReconcilePageInput) (activities.ReconcilePageResult, error) {
		f.inputs = append(f.inputs, in)
		i := 0
		if in.NextToken != "" {
			fmt.Sscan(in.NextToken, &i)
		}
		p := f.pages[i]
		res := activities.ReconcilePageResult{Counts: store.ReconcileCounts{Seen: p[0], Present: p[0] - p[1], Recovered: p[1]}}
		if i+1 < len(f.pages) {
			res.NextToken = fmt.Sprint(i + 1)
		}
		return res, nil
	}).Maybe()
	h.env.OnActivity(a.FinishReconciliation, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FinishReconciliationInput) (activities.FinishReconciliationResult, error) {
		f.finished = append(f.finished, in)
		c := in.Counts
		c.Analysed = 5
		return activities.FinishReconciliationResult{Counts: c}, nil
	}).Maybe()
}

func TestReconcileWorkflow(t *testing.T) {
	t.Run("a nightly run takes its window from the plan and pages through it, adding up each page", func(t *testing.T) {
		h := newHarness(t)
		f := &reconcileFake{pages: [][2]int{{100, 3}, {100, 0}, {42, 1}}}
		f.install(h)
		h.env.ExecuteWorkflow(workflows.ReconcileWorkflow, workflows.ReconcileInput{TenantID: "acme", Kind: workflows.ReconcileNightly})
		var res workflows.ReconcileResult
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		want := store.ReconcileCounts{Seen: 242, Present: 238, Recovered: 4, Analysed: 5}
		if res.Counts != want || res.From.Hour() != 0 || res.To.Sub(res.From) != 24*time.Hour {
			t.Errorf("result %+v, want %+v over the plan's window", res, want)
		}
		if len(f.inputs) != 3 || f.inputs[1].NextToken != "1" || f.inputs[2].Before != (store.ReconcileCounts{Seen: 200, Present: 197, Recovered: 3}) {
			t.Errorf("pages read %+v", f.inputs)
		}
		if len(f.begun) != 1 || f.begun[0].RunID == "" || len(f.finished) != 1 || f.finished[0].RunID != f.begun[0].RunID {
			t.Errorf("begun %+v, finished %+v", f.begun, f.finished)
		}
		if !strings.Contains(res.RunID, "@") {
			t.Errorf("run ID %q names neither the workflow nor its first run", res.RunID)
		}
	})

	t.Run("a backfill keeps its range and its dry run", func(t *testing.T) {
		h := newHarness(t)
		f := &reconcileFake{pages: [][2]int{{7, 7}}}
		f.install(h)
		from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)
		h.env.ExecuteWorkflow(workflows.ReconcileWorkflow, workflows.ReconcileInput{TenantID: "acme", Kind: workflows.ReconcileBackfill, From: from, To: to, DryRun: true})
		var res workflows.ReconcileResult
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		if !res.From.Equal(from) || !res.To.Equal(to) || !f.inputs[0].DryRun || !f.begun[0].DryRun || !f.finished[0].DryRun {
			t.Errorf("result %+v, page %+v", res, f.inputs[0])
		}
	})

	t.Run("continues as new after a bounded number of pages, carrying its position and totals", func(t *testing.T) {
		h := newHarness(t)
		f := &reconcileFake{}
		for range 60 {
			f.pages = append(f.pages, [2]int{100, 1})
		}
		f.install(h)
		h.env.ExecuteWorkflow(workflows.ReconcileWorkflow, workflows.ReconcileInput{TenantID: "acme", Kind: workflows.ReconcileNightly})
		var can *workflow.ContinueAsNewError
		if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
			t.Fatalf("error %v, want a continue-as-new", err)
		}
		if len(f.inputs) != 50 || len(f.finished) != 0 {
			t.Errorf("%d pages read and %d finishes before continuing, want 50 and none", len(f.inputs), len(f.finished))
		}
	})
}
