package workflows

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
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
}

// Deliver is the one way a CTR version reaches its conversation's workflow,
// used by the worker's consumer and by operators' retries alike. It signals
// the workflow with the version, starting it when no run is open. A closed
// workflow starts afresh (reuse policy AllowDuplicate): the new run sees in
// Postgres what the old one did and repeats none of it. The tenant is the
// run's fairness key, which its activities inherit: the task queue
// dispatches tenants' tasks in turn, so one tenant's burst never holds
// another's calls behind it.
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
	return c.SignalWithStartWorkflow(ctx, id, CTRSignal, d.Version, opts, ConversationWorkflowType, input)
}
