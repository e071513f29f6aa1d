package workflows

import (
	"context"
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/conversation"
)

// ConversationWorkflowID derives the workflow ID from the business IDs, so
// every CTR version of one contact reaches the same workflow.
func ConversationWorkflowID(tenantID, contactID string) string {
	return "conversation/" + tenantID + "/" + contactID
}

// Starter is the part of the Temporal client that Deliver uses.
type Starter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	SignalWithStartWorkflow(ctx context.Context, workflowID string, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
}

// Delivery is one CTR version on its way to its conversation's workflow.
type Delivery struct {
	TenantID  string
	ContactID string
	Version   CTRVersion
	// TaskQueue and WaitWindow configure a workflow this delivery starts.
	TaskQueue  string
	WaitWindow time.Duration
	// InlineCopyMaxBytes bounds the recordings copied inline (see
	// ConversationInput).
	InlineCopyMaxBytes int64
	// RunOpen says the caller has seen the conversation's run at work (its
	// Postgres row is in a state that is not final), so Deliver signals it
	// without first trying a start that would be refused. A stale hint
	// costs nothing but the eager start: signal-with-start starts a run
	// when none is open.
	RunOpen bool
}

// Deliver is the one way a CTR version reaches its conversation's workflow,
// used by the worker's consumer and by operators' retries alike.
//
// When no run of the conversation is open, or the caller does not know of
// one (see Delivery.RunOpen), it starts one with the version
// in its input. The start asks for eager dispatch: when the client belongs
// to a worker of the task queue with a workflow task slot free (the
// worker's own consumer), the server hands the run's first workflow task
// back in the start's answer, and the run skips the task queue altogether.
// Otherwise the task goes through the task queue as any other. When a run is
// open, the start is refused, and Deliver signals that run with the version
// instead; signal-with-start also covers a run that closes in between. A
// closed workflow starts afresh (reuse policy AllowDuplicate): the new run
// sees in Postgres what the old one did and repeats none of it.
//
// The tenant is the run's fairness key, which its activities inherit: the
// task queue dispatches tenants' tasks in turn, so one tenant's burst never
// holds another's calls behind it. An eagerly dispatched task skips that
// turn, so the worker bounds how many it runs at once (WORKER_EAGER_STARTS):
// past the bound, a burst's starts wait in the task queue.
func Deliver(ctx context.Context, c Starter, d Delivery) (client.WorkflowRun, error) {
	id := ConversationWorkflowID(d.TenantID, d.ContactID)
	opts := client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             d.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Priority:              temporal.Priority{FairnessKey: d.TenantID},
		TypedSearchAttributes: temporal.NewSearchAttributes(
			TenantIDKey.ValueSet(d.TenantID),
			ContactIDKey.ValueSet(d.ContactID),
			ConversationStateKey.ValueSet(string(conversation.Received)),
		),
	}
	input := ConversationInput{TenantID: d.TenantID, ContactID: d.ContactID, RecordingWaitWindow: d.WaitWindow,
		InlineCopyMaxBytes: d.InlineCopyMaxBytes}

	if d.RunOpen {
		return c.SignalWithStartWorkflow(ctx, id, CTRSignal, d.Version, opts, ConversationWorkflowType, input)
	}
	start, first := opts, input
	start.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
	start.WorkflowExecutionErrorWhenAlreadyStarted = true
	start.EnableEagerStart = true
	first.First = &d.Version
	run, err := c.ExecuteWorkflow(ctx, start, ConversationWorkflowType, first)
	var open *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &open) {
		return run, err
	}
	return c.SignalWithStartWorkflow(ctx, id, CTRSignal, d.Version, opts, ConversationWorkflowType, input)
}
