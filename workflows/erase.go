package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
)

// EraseWorkflowID derives the ID of a contact's erasure.
func EraseWorkflowID(tenantID, contactID string) string {
	return "erase/" + tenantID + "/" + contactID
}

// The kinds of erasure, for the metric and the tombstone's requester.
const (
	EraseOnRequest     = "request"
	EraseByRetention   = "retention"
	EraseTenantRemoval = "tenant_removal"
)

// EraseInput names the contact to erase. Its tombstone, with the reason
// and who asked, is written before the workflow starts, so neither rides
// through the history.
type EraseInput struct {
	TenantID  string
	ContactID string
	// Kind is EraseOnRequest, EraseByRetention or EraseTenantRemoval.
	Kind string
}

// EraseResult says what the erasure removed.
type EraseResult struct {
	// WasRunning is true when the conversation's workflow was cancelled
	// first.
	WasRunning       bool
	ObjectsRemoved   int
	Retracted        bool
	HistoriesDeleted int
	// DeadLetters counts the contact's CTR messages taken out of the
	// dead-letter queue.
	DeadLetters int
	RowsDeleted int64
}

// erasingReason is what a conversation stopped for its erasure is marked
// cancelled with, for the moment before it is purged.
const erasingReason = "erasure requested"

// EraseWorkflow erases one contact: its running conversation, if any, is
// cancelled and waited for; then its recording copies, its rows, its CTR
// versions and its conversation's histories are removed, the platform is
// told to drop its analysis, and only the tombstone is left. Each step is
// idempotent and bounded; a failed erasure can be started again.
func EraseWorkflow(ctx workflow.Context, in EraseInput) (EraseResult, error) {
	return eraseContact(ctx, in)
}

// eraseContact runs the two steps of an erasure.
func eraseContact(ctx workflow.Context, in EraseInput) (EraseResult, error) {
	sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A cancelled copy stops at its next heartbeat, and the run's
		// clean-up is quick: minutes are plenty.
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
	})
	wid := ConversationWorkflowID(in.TenantID, in.ContactID)
	var stop activities.StopConversationResult
	err := workflow.ExecuteActivity(sctx, a.StopConversation, activities.StopConversationInput{
		WorkflowID: wid, ReasonSignal: CancelReasonSignal, Reason: erasingReason,
	}).Get(ctx, &stop)
	if err != nil {
		return EraseResult{}, err
	}
	ectx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	var out activities.EraseConversationResult
	err = workflow.ExecuteActivity(ectx, a.EraseConversation, activities.EraseConversationInput{
		TenantID: in.TenantID, ContactID: in.ContactID, WorkflowID: wid, Kind: in.Kind,
	}).Get(ctx, &out)
	p := out.Purged
	return EraseResult{WasRunning: stop.WasRunning, ObjectsRemoved: out.ObjectsRemoved, Retracted: out.Retracted,
		HistoriesDeleted: out.HistoriesDeleted, DeadLetters: out.DeadLetters,
		RowsDeleted: p.Conversations + p.Recordings + p.CTRVersions + p.Rejected}, err
}
