package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
)

// pagesPerRun bounds one run's history: after this many ListUsers pages
// (20,000 users) the sync continues as new with the next page's token.
const pagesPerRun = 20

// AgentSyncWorkflowID derives the workflow ID of a tenant's agent sync.
func AgentSyncWorkflowID(tenantID string) string {
	return "agent-sync/" + tenantID
}

// AgentSyncInput starts, or continues, one sync of a tenant's agents.
type AgentSyncInput struct {
	TenantID string
	// SyncID, NextToken and Totals carry a sync across continue-as-new;
	// a new sync leaves them empty.
	SyncID    string
	NextToken string
	Totals    AgentSyncResult
}

// AgentSyncResult counts what a sync did.
type AgentSyncResult struct {
	Pages       int
	Listed      int
	Described   int
	Kept        int
	Deactivated int
}

// AgentSyncWorkflow brings a tenant's Amazon Connect users in as agents:
// page by page, describing only changed users, then making inactive the
// agents the sync did not see.
func AgentSyncWorkflow(ctx workflow.Context, in AgentSyncInput) (AgentSyncResult, error) {
	if in.SyncID == "" {
		in.SyncID = workflow.GetInfo(ctx).WorkflowExecution.RunID
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeTenantNotFound},
		},
	})
	res, token := in.Totals, in.NextToken
	for page := 0; ; page++ {
		if page == pagesPerRun {
			return res, workflow.NewContinueAsNewError(ctx, AgentSyncWorkflow,
				AgentSyncInput{TenantID: in.TenantID, SyncID: in.SyncID, NextToken: token, Totals: res})
		}
		var out activities.SyncAgentsPageResult
		err := workflow.ExecuteActivity(ctx, a.SyncAgentsPage, activities.SyncAgentsPageInput{
			TenantID: in.TenantID, SyncID: in.SyncID, NextToken: token,
		}).Get(ctx, &out)
		if err != nil {
			return res, err
		}
		res.Pages++
		res.Listed += out.Listed
		res.Described += out.Described
		res.Kept += out.Kept
		if token = out.NextToken; token == "" {
			break
		}
	}
	var fin activities.FinishAgentSyncResult
	err := workflow.ExecuteActivity(ctx, a.FinishAgentSync, activities.FinishAgentSyncInput{TenantID: in.TenantID, SyncID: in.SyncID}).Get(ctx, &fin)
	if err != nil {
		return res, err
	}
	res.Deactivated = fin.Deactivated
	return res, nil
}
