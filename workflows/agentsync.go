package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
)

// pagesPerRun bounds one run's history: after this many pages (2,000 users
// searched, or 20,000 listed) the sync continues as new with the next
// page's token.
const pagesPerRun = 20

// AgentSyncWorkflowID derives the workflow ID of a tenant's agent sync.
func AgentSyncWorkflowID(tenantID string) string {
	return "agent-sync/" + tenantID
}

// AgentSyncInput starts, or continues, one sync of a tenant's agents.
type AgentSyncInput struct {
	TenantID string
	// SyncID, InstanceARN, Method, NextToken and Totals carry a sync
	// across continue-as-new; a new sync leaves them empty.
	SyncID      string
	InstanceARN string
	Method      string
	NextToken   string
	Totals      AgentSyncResult
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
// instance by instance (the primary first; replicas share its users), page
// by page, then making inactive the agents the sync did not see. Each page
// searches users where the tenant's role may, or lists them and describes
// the changed ones.
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
	res, token, instance, method := in.Totals, in.NextToken, in.InstanceARN, in.Method
	for page := 0; ; page++ {
		if page == pagesPerRun {
			return res, workflow.NewContinueAsNewError(ctx, AgentSyncWorkflow, AgentSyncInput{TenantID: in.TenantID,
				SyncID: in.SyncID, InstanceARN: instance, Method: method, NextToken: token, Totals: res})
		}
		var out activities.SyncAgentsPageResult
		err := workflow.ExecuteActivity(ctx, a.SyncAgentsPage, activities.SyncAgentsPageInput{
			TenantID: in.TenantID, SyncID: in.SyncID, InstanceARN: instance, Method: method, NextToken: token,
		}).Get(ctx, &out)
		if err != nil {
			return res, err
		}
		res.Pages++
		res.Listed += out.Listed
		res.Described += out.Described
		res.Kept += out.Kept
		method = out.Method
		if token = out.NextToken; token != "" {
			continue
		}
		if out.NextInstanceARN == "" {
			break
		}
		instance, method = out.NextInstanceARN, ""
	}
	var fin activities.FinishAgentSyncResult
	err := workflow.ExecuteActivity(ctx, a.FinishAgentSync, activities.FinishAgentSyncInput{TenantID: in.TenantID, SyncID: in.SyncID}).Get(ctx, &fin)
	if err != nil {
		return res, err
	}
	res.Deactivated = fin.Deactivated
	return res, nil
}
