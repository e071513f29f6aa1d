package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/workflows"
)

func TestEraseWorkflow(t *testing.T) {
	t.Run("stops the running conversation before anything of it is removed", func(t *testing.T) {
		h := newHarness(t)
		h.env.RegisterWorkflow(workflows.EraseWorkflow)
		var steps []string
		h.env.OnActivity(a.StopConversation, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StopConversationInput) (activities.StopConversationResult, error) {
			steps = append(steps, "stop "+in.WorkflowID)
			return activities.StopConversationResult{WasRunning: true}, nil
		}).Once()
		h.env.OnActivity(a.EraseConversation, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.EraseConversationInput) (activities.EraseConversationResult, error) {
			steps = append(steps, "erase "+in.WorkflowID+" "+in.Kind)
			return activities.EraseConversationResult{ObjectsRemoved: 2, Retracted: true, HistoriesDeleted: 1,
				Purged: store.Purged{Conversations: 1, Recordings: 2, CTRVersions: 3, Rejected: 1}}, nil
		}).Once()
		h.env.ExecuteWorkflow(workflows.EraseWorkflow, workflows.EraseInput{TenantID: "acme", ContactID: "c-1", Kind: workflows.EraseOnRequest})
		var res workflows.EraseResult
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		wid := workflows.ConversationWorkflowID("acme", "c-1")
		if want := fmt.Sprint([]string{"stop " + wid, "erase " + wid + " request"}); fmt.Sprint(steps) != want {
			t.Errorf("steps %v, want %v", steps, want)
		}
		want := workflows.EraseResult{WasRunning: true, ObjectsRemoved: 2, Retracted: true, HistoriesDeleted: 1, RowsDeleted: 7}
		if res != want {
			t.Errorf("result %+v, want %+v", res, want)
		}
	})

	t.Run("fails at once, without retrying, when the contact has no tombstone", func(t *testing.T) {
		h := newHarness(t)
		h.env.RegisterWorkflow(workflows.EraseWorkflow)
		h.env.OnActivity(a.StopConversation, mock.Anything, mock.Anything).Return(activities.StopConversationResult{}, nil)
		attempts := 0
		h.env.OnActivity(a.EraseConversation, mock.Anything, mock.Anything).Return(func(context.Context, activities.EraseConversationInput) (activities.EraseConversationResult, error) {
			attempts++
			return activities.EraseConversationResult{}, temporal.NewNonRetryableApplicationError("no tombstone", activities.ErrTypeNotErasing, nil)
		})
		h.env.ExecuteWorkflow(workflows.EraseWorkflow, workflows.EraseInput{TenantID: "acme", ContactID: "c-1", Kind: workflows.EraseOnRequest})
		var appErr *temporal.ApplicationError
		if err := h.env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeNotErasing {
			t.Fatalf("error %v, want %s", err, activities.ErrTypeNotErasing)
		}
		if attempts != 1 {
			t.Errorf("%d attempts, want 1", attempts)
		}
	})

	t.Run("gives up after a bounded number of attempts when the erasure keeps failing", func(t *testing.T) {
		h := newHarness(t)
		h.env.RegisterWorkflow(workflows.EraseWorkflow)
		h.env.OnActivity(a.StopConversation, mock.Anything, mock.Anything).Return(activities.StopConversationResult{}, nil)
		attempts := 0
		h.env.OnActivity(a.EraseConversation, mock.Anything, mock.Anything).Return(func(context.Context, activities.EraseConversationInput) (activities.EraseConversationResult, error) {
			attempts++
			return activities.EraseConversationResult{}, errors.New("minio is down")
		})
		h.env.ExecuteWorkflow(workflows.EraseWorkflow, workflows.EraseInput{TenantID: "acme", ContactID: "c-1", Kind: workflows.EraseOnRequest})
		if err := h.env.GetWorkflowError(); err == nil {
			t.Fatal("the erasure succeeded")
		}
		if attempts < 2 || attempts > 20 {
			t.Errorf("%d attempts, want a small bound above one", attempts)
		}
	})
}

// retentionFake plays the tenant's conversations for RetentionWorkflow:
// ended holds the contacts BeginErasures pages through, oldest first, and
// running the open workflows RunningConversations finds.
type retentionFake struct {
	mu      sync.Mutex
	ended   []store.Ended
	running []string
	days    int
	failing map[string]bool
	begun   []activities.BeginErasuresInput
	swept   int
	erased  []string
	// objectSweeps names the tenants whose objects were removed.
	objectSweeps []string
	// deadLetterSweeps are the dead-letter queue's sweeps.
	deadLetterSweeps []activities.RemoveDeadLettersInput
}

func (f *retentionFake) install(h *harness) {
	h.env.RegisterWorkflow(workflows.RetentionWorkflow)
	h.env.OnActivity(a.RetentionPlan, mock.Anything, mock.Anything).Return(func(context.Context, activities.RetentionPlanInput) (activities.RetentionPlanResult, error) {
		if f.days == 0 {
			return activities.RetentionPlanResult{}, nil
		}
		return activities.RetentionPlanResult{Days: f.days, Cutoff: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}, nil
	}).Maybe()
	h.env.OnActivity(a.BeginErasures, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BeginErasuresInput) (activities.BeginErasuresResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.begun = append(f.begun, in)
		var page []store.Ended
		for _, e := range f.ended {
			if len(page) < in.Limit && e.At.Before(in.Cutoff) && (e.At.After(in.After.At) || e.At.Equal(in.After.At) && e.ContactID > in.After.ContactID) {
				page = append(page, e)
			}
		}
		return activities.BeginErasuresResult{Contacts: page}, nil
	}).Maybe()
	h.env.OnActivity(a.RunningConversations, mock.Anything, mock.Anything).Return(func(context.Context, activities.RunningConversationsInput) (activities.RunningConversationsResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.swept++
		return activities.RunningConversationsResult{ContactIDs: f.running}, nil
	}).Maybe()
	h.env.OnActivity(a.RemoveTenantObjects, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RemoveTenantObjectsInput) (activities.RemoveTenantObjectsResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.objectSweeps = append(f.objectSweeps, in.TenantID)
		return activities.RemoveTenantObjectsResult{Removed: 7}, nil
	}).Maybe()
	h.env.OnActivity(a.RemoveDeadLetters, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RemoveDeadLettersInput) (activities.RemoveDeadLettersResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.deadLetterSweeps = append(f.deadLetterSweeps, in)
		return activities.RemoveDeadLettersResult{Removed: 1}, nil
	}).Maybe()
	h.env.OnActivity(a.StopConversation, mock.Anything, mock.Anything).Return(activities.StopConversationResult{}, nil).Maybe()
	h.env.OnActivity(a.EraseConversation, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.EraseConversationInput) (activities.EraseConversationResult, error) {
		if f.failing[in.ContactID] {
			return activities.EraseConversationResult{}, temporal.NewNonRetryableApplicationError("refused", "Refused", nil)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.erased = append(f.erased, in.Kind+" "+in.ContactID)
		return activities.EraseConversationResult{}, nil
	}).Maybe()
}

// calls returns n contacts that ended a minute apart from start.
func calls(n int, start time.Time) []store.Ended {
	out := make([]store.Ended, n)
	for i := range out {
		out[i] = store.Ended{ContactID: fmt.Sprintf("c-%03d", i), At: start.Add(time.Duration(i) * time.Minute)}
	}
	return out
}

func TestRetentionWorkflow(t *testing.T) {
	old := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	t.Run("does nothing for a tenant that keeps its conversations", func(t *testing.T) {
		h := newHarness(t)
		f := &retentionFake{ended: calls(3, old)}
		f.install(h)
		h.env.ExecuteWorkflow(workflows.RetentionWorkflow, workflows.RetentionInput{TenantID: "acme", Kind: workflows.EraseByRetention})
		var res workflows.RetentionResult
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		if res.Skipped == "" || res.Erased != 0 || len(f.begun) != 0 || len(f.erased) != 0 {
			t.Errorf("result %+v, %d pages begun, erased %v: want skipped and nothing touched", res, len(f.begun), f.erased)
		}
	})

	t.Run("erases every call that ended before the cutoff, page by page, and nothing after it", func(t *testing.T) {
		h := newHarness(t)
		f := &retentionFake{days: 90, ended: append(calls(45, old), store.Ended{ContactID: "recent", At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})}
		f.install(h)
		h.env.ExecuteWorkflow(workflows.RetentionWorkflow, workflows.RetentionInput{TenantID: "acme", Kind: workflows.EraseByRetention})
		var res workflows.RetentionResult
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		if n := len(f.deadLetterSweeps); n != 3 || len(f.deadLetterSweeps[0].ContactIDs) != 20 || f.deadLetterSweeps[2].WholeTenant {
			t.Errorf("%d dead-letter sweeps (%+v), want one a batch of 20 and none of the whole tenant", n, f.deadLetterSweeps)
		}
		if res.Erased != 45 || res.Failed != 0 || len(f.erased) != 45 || len(f.objectSweeps) != 0 {
			t.Errorf("erased %d (%d calls), failed %d, %d object sweeps; want all 45 old calls and no sweep", res.Erased, len(f.erased), res.Failed, len(f.objectSweeps))
		}
		for _, e := range f.erased {
			if e == "retention recent" {
				t.Errorf("a call after the cutoff was erased")
			}
		}
		if got := len(f.begun); got != 4 {
			t.Errorf("%d pages read, want 3 of calls and the empty one", got)
		}
		if want := old.Add(44 * time.Minute); !res.Through.Equal(want) {
			t.Errorf("through %v, want %v", res.Through, want)
		}
		if f.begun[0].Reason == "" || f.begun[0].RequestedBy != "retention" {
			t.Errorf("tombstones say %q by %q", f.begun[0].Reason, f.begun[0].RequestedBy)
		}
		if f.swept != 0 {
			t.Errorf("a retention run looked for open workflows")
		}
	})

	t.Run("counts a failed erasure, names the first ten, and goes on with the rest", func(t *testing.T) {
		h := newHarness(t)
		f := &retentionFake{days: 30, ended: calls(30, old), failing: map[string]bool{}}
		for i := range 12 {
			f.failing[fmt.Sprintf("c-%03d", 2*i)] = true
		}
		f.install(h)
		h.env.ExecuteWorkflow(workflows.RetentionWorkflow, workflows.RetentionInput{TenantID: "acme", Kind: workflows.EraseByRetention})
		var res workflows.RetentionResult
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		if res.Erased != 18 || res.Failed != 12 || len(res.FailedContacts) != 10 || res.FailedContacts[0] != "c-000" {
			t.Errorf("result %+v, want 18 erased and 12 failed, the first ten named", res.RetentionProgress)
		}
	})

	t.Run("continues as new after a bounded number of batches, carrying its position", func(t *testing.T) {
		h := newHarness(t)
		f := &retentionFake{days: 30, ended: calls(30*20, old)}
		f.install(h)
		h.env.ExecuteWorkflow(workflows.RetentionWorkflow, workflows.RetentionInput{TenantID: "acme", Kind: workflows.EraseByRetention})
		var can *workflow.ContinueAsNewError
		err := h.env.GetWorkflowError()
		if !errors.As(err, &can) {
			t.Fatalf("error %v, want a continue-as-new", err)
		}
		if got := len(f.erased); got != 25*20 {
			t.Errorf("%d erased before continuing, want 25 batches of 20", got)
		}
	})

	t.Run("a tenant removal erases every conversation, then every open workflow", func(t *testing.T) {
		h := newHarness(t)
		future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
		f := &retentionFake{ended: append(calls(3, old), store.Ended{ContactID: "late", At: future}), running: []string{"waiting-1", "waiting-2"}}
		f.install(h)
		h.env.ExecuteWorkflow(workflows.RetentionWorkflow, workflows.RetentionInput{TenantID: "acme", Kind: workflows.EraseTenantRemoval})
		var res workflows.RetentionResult
		if err := h.env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		if res.Erased != 6 || f.swept != 1 {
			t.Errorf("erased %d with %d sweeps, want the 4 stored and 2 open conversations after one sweep", res.Erased, f.swept)
		}
		if fmt.Sprint(f.objectSweeps) != "[acme]" || res.Objects != 7 {
			t.Errorf("object sweeps %v removing %d, want the tenant's objects removed once, at the end", f.objectSweeps, res.Objects)
		}
		if n := len(f.deadLetterSweeps); n == 0 || !f.deadLetterSweeps[n-1].WholeTenant || f.deadLetterSweeps[n-1].TenantID != "acme" {
			t.Errorf("dead-letter sweeps %+v, want the whole tenant's last", f.deadLetterSweeps)
		}
		want := "[tenant_removal c-000 tenant_removal c-001 tenant_removal c-002 tenant_removal late tenant_removal waiting-1 tenant_removal waiting-2]"
		slices.Sort(f.erased)
		if fmt.Sprint(f.erased) != want {
			t.Errorf("erased %v, want %s", f.erased, want)
		}
		if f.begun[0].RequestedBy != "tenant removal" {
			t.Errorf("tombstones requested by %q", f.begun[0].RequestedBy)
		}
	})
}
