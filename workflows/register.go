package workflows

import (
	"go.temporal.io/sdk/workflow"

	"go.temporal.io/sdk/worker"
)

// Register registers every workflow with r under its type name, the first
// conversation workflow included while runs of it may still be open.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflow(ConversationWorkflowV4)
	r.RegisterWorkflow(ConversationWorkflowV3)
	r.RegisterWorkflow(ConversationWorkflowV2)
	r.RegisterWorkflowWithOptions(ConversationWorkflowV1, workflow.RegisterOptions{Name: ConversationWorkflowV1Type})
	r.RegisterWorkflow(AgentSyncWorkflow)
	r.RegisterWorkflow(QuarantineRetentionWorkflow)
	r.RegisterWorkflow(EraseWorkflow)
	r.RegisterWorkflow(RetentionWorkflow)
	r.RegisterWorkflow(ReconcileWorkflow)
}

// ConversationWorkflowTypes lists the type names of conversation workflows,
// newest first, for visibility queries.
func ConversationWorkflowTypes() []string {
	return []string{ConversationWorkflowType, ConversationWorkflowV3Type, ConversationWorkflowV2Type, ConversationWorkflowV1Type}
}
