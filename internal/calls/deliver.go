// Package calls is what operators do to conversations, shared by ingestctl
// and the worker's admin API: find calls (stuck, failed, by state or age)
// with their workflow's status, retry them and cancel them. It also holds
// the one way a CTR version reaches its conversation's workflow, used by
// the worker's consumer and by retries alike.
package calls

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/workflows"
)

// Starter is the part of the Temporal client that Deliver uses.
type Starter interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID string, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
}

// Delivery is one CTR version on its way to its conversation's workflow.
type Delivery struct {
	TenantID  string
	ContactID string
	Version   workflows.CTRVersion
	// TaskQueue and WaitWindow configure a workflow this delivery starts.
	TaskQueue  string
	WaitWindow time.Duration
}

// Deliver signals the conversation's workflow with the CTR version,
// starting it when no run is open. A closed workflow starts afresh (reuse
// policy AllowDuplicate): the new run sees in Postgres what the old one did
// and repeats none of it.
func Deliver(ctx context.Context, c Starter, d Delivery) (client.WorkflowRun, error) {
	id := workflows.ConversationWorkflowID(d.TenantID, d.ContactID)
	opts := client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             d.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.TenantIDKey.ValueSet(d.TenantID),
			workflows.ContactIDKey.ValueSet(d.ContactID),
			workflows.ConversationStateKey.ValueSet("received"),
		),
	}
	input := workflows.ConversationInput{TenantID: d.TenantID, ContactID: d.ContactID, RecordingWaitWindow: d.WaitWindow}
	return c.SignalWithStartWorkflow(ctx, id, workflows.CTRSignal, d.Version, opts, workflows.ConversationWorkflow, input)
}
