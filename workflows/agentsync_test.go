package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/mock"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/workflows"
)

func syncEnv() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.AgentSyncWorkflow)
	env.RegisterActivity(a)
	return env
}

// pages answers SyncAgentsPage with n pages of 1,000 users, 10 described each.
func pages(env *testsuite.TestWorkflowEnvironment, n int, syncIDs *[]string) {
	env.OnActivity(a.SyncAgentsPage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SyncAgentsPageInput) (activities.SyncAgentsPageResult, error) {
			*syncIDs = append(*syncIDs, in.SyncID)
			i := 0
			if in.NextToken != "" {
				fmt.Sscanf(in.NextToken, "page-%d", &i)
			}
			next := ""
			if i+1 < n {
				next = fmt.Sprintf("page-%d", i+1)
			}
			return activities.SyncAgentsPageResult{NextToken: next, Listed: 1000, Described: 10, Kept: 990}, nil
		})
}

func TestAgentSyncWorkflow(t *testing.T) {
	t.Run("walks every page, then deactivates what the sync did not see", func(t *testing.T) {
		env := syncEnv()
		var ids []string
		pages(env, 3, &ids)
		env.OnActivity(a.FinishAgentSync, mock.Anything, mock.Anything).Return(activities.FinishAgentSyncResult{Deactivated: 4}, nil).Once()
		env.ExecuteWorkflow(workflows.AgentSyncWorkflow, workflows.AgentSyncInput{TenantID: "acme"})
		var res workflows.AgentSyncResult
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		want := workflows.AgentSyncResult{Pages: 3, Listed: 3000, Described: 30, Kept: 2970, Deactivated: 4}
		if res != want {
			t.Fatalf("result = %+v, want %+v", res, want)
		}
		if ids[0] == "" || ids[0] != ids[2] {
			t.Fatalf("sync IDs %v: every page of one sync must carry the same ID", ids)
		}
		env.AssertExpectations(t)
	})

	t.Run("past 20 pages it continues as new with the next token and the totals so far", func(t *testing.T) {
		env := syncEnv()
		var ids []string
		pages(env, 25, &ids)
		env.ExecuteWorkflow(workflows.AgentSyncWorkflow, workflows.AgentSyncInput{TenantID: "acme"})
		var can *workflow.ContinueAsNewError
		if err := env.GetWorkflowError(); !errors.As(err, &can) {
			t.Fatalf("err = %v, want continue-as-new", err)
		}
		if len(ids) != 20 {
			t.Fatalf("%d pages in the first run, want 20", len(ids))
		}
		env.AssertActivityNotCalled(t, "FinishAgentSync", mock.Anything, mock.Anything)
	})
}
