package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/agents"
	"github.com/connectingest/connect-ingest/internal/store"
)

// usersPerPage is ListUsers' largest page.
const usersPerPage = 1000

// SyncAgentsPageInput names one page of one tenant's agent sync.
type SyncAgentsPageInput struct {
	TenantID string
	// SyncID identifies the sync (its first run), across continue-as-new.
	SyncID string
	// NextToken is ListUsers' token for this page; empty for the first.
	NextToken string
}

// SyncAgentsPageResult counts what the page did; no user lists, so that the
// workflow's history stays bounded however many users there are.
type SyncAgentsPageResult struct {
	NextToken string
	Listed    int
	Described int
	Kept      int
}

// SyncAgentsPage lists one page of the tenant's Connect users, describes
// only those whose LastModifiedTime changed since the last sync, and stores
// every user matching the tenant's filter as an active agent seen by this
// sync. All Connect calls wait on the tenant's rate limiter.
func (a *Activities) SyncAgentsPage(ctx context.Context, in SyncAgentsPageInput) (SyncAgentsPageResult, error) {
	tenant, err := a.Tenants.Get(ctx, in.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return SyncAgentsPageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeTenantNotFound, err)
	}
	if err != nil {
		return SyncAgentsPageResult{}, err
	}
	instanceID, err := InstanceID(tenant.InstanceARN)
	if err != nil {
		return SyncAgentsPageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeTenantNotFound, err)
	}
	client, err := a.AWS.Connect(ctx, tenant)
	if err != nil {
		return SyncAgentsPageResult{}, err
	}
	limiter := a.AWS.Limiter(tenant.ID)

	list := &connect.ListUsersInput{InstanceId: aws.String(instanceID), MaxResults: aws.Int32(usersPerPage)}
	if in.NextToken != "" {
		list.NextToken = aws.String(in.NextToken)
	}
	if err := limiter.Wait(ctx); err != nil {
		return SyncAgentsPageResult{}, err
	}
	page, err := client.ListUsers(ctx, list)
	if isClientError(err) {
		return SyncAgentsPageResult{}, permanent(ErrTypeConnectRefused, fmt.Errorf("Amazon Connect refused ListUsers for %s: %w", tenant.ID, err))
	}
	if err != nil {
		return SyncAgentsPageResult{}, fmt.Errorf("list users of %s: %w", tenant.ID, err)
	}
	ids := make([]string, len(page.UserSummaryList))
	for i, sum := range page.UserSummaryList {
		ids[i] = aws.ToString(sum.Id)
	}
	known, err := a.Agents.Known(ctx, tenant.ID, ids)
	if err != nil {
		return SyncAgentsPageResult{}, err
	}

	res := SyncAgentsPageResult{NextToken: aws.ToString(page.NextToken), Listed: len(page.UserSummaryList)}
	var unchanged []string
	for i, sum := range page.UserSummaryList {
		activity.RecordHeartbeat(ctx, i)
		id := aws.ToString(sum.Id)
		if k, ok := known[id]; ok && sum.LastModifiedTime != nil && k.LastModified.Equal(*sum.LastModifiedTime) {
			if tenant.AgentFilter.Matches(filterView(k)) {
				unchanged = append(unchanged, id)
			}
			continue
		}
		if err := limiter.Wait(ctx); err != nil {
			return SyncAgentsPageResult{}, err
		}
		out, err := client.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String(instanceID), UserId: aws.String(id)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue // removed between the list and now: not seen, so deactivated
		}
		if err != nil {
			return SyncAgentsPageResult{}, fmt.Errorf("describe user %s of %s: %w", id, tenant.ID, err)
		}
		res.Described++
		agent := toAgent(tenant.ID, out.User, sum.LastModifiedTime)
		if !tenant.AgentFilter.Matches(filterView(agent)) {
			continue
		}
		agent.SeenSync = in.SyncID
		if err := a.Agents.Upsert(ctx, agent); err != nil {
			return SyncAgentsPageResult{}, err
		}
		res.Kept++
	}
	if err := a.Agents.MarkSeen(ctx, tenant.ID, in.SyncID, unchanged); err != nil {
		return SyncAgentsPageResult{}, err
	}
	res.Kept += len(unchanged)
	return res, nil
}

// FinishAgentSyncInput names a finished sync.
type FinishAgentSyncInput struct {
	TenantID string
	SyncID   string
}

// FinishAgentSyncResult counts the agents the sync made inactive.
type FinishAgentSyncResult struct {
	Deactivated int
}

// FinishAgentSync marks inactive the tenant's active agents that the sync
// did not see: gone from Connect, or no longer matching the filter.
func (a *Activities) FinishAgentSync(ctx context.Context, in FinishAgentSyncInput) (FinishAgentSyncResult, error) {
	n, err := a.Agents.DeactivateUnseen(ctx, in.TenantID, in.SyncID)
	if err != nil {
		return FinishAgentSyncResult{}, err
	}
	return FinishAgentSyncResult{Deactivated: n}, nil
}

// InstanceID returns the instance ID at the end of a Connect instance ARN.
func InstanceID(instanceARN string) (string, error) {
	_, id, ok := strings.Cut(instanceARN, ":instance/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", fmt.Errorf("instance ARN %q has no instance ID", instanceARN)
	}
	return id, nil
}

func toAgent(tenantID string, u *types.User, modified *time.Time) store.Agent {
	a := store.Agent{
		TenantID: tenantID, UserID: aws.ToString(u.Id), Username: aws.ToString(u.Username),
		RoutingProfileID: aws.ToString(u.RoutingProfileId), SecurityProfileIDs: u.SecurityProfileIds,
		HierarchyGroupID: aws.ToString(u.HierarchyGroupId), Tags: u.Tags, LastModified: modified,
	}
	if a.LastModified == nil {
		a.LastModified = u.LastModifiedTime
	}
	if id := u.IdentityInfo; id != nil {
		a.FirstName, a.LastName, a.Email = aws.ToString(id.FirstName), aws.ToString(id.LastName), aws.ToString(id.Email)
	}
	return a
}

func filterView(a store.Agent) agents.User {
	return agents.User{Username: a.Username, RoutingProfileID: a.RoutingProfileID, SecurityProfileIDs: a.SecurityProfileIDs,
		HierarchyGroupID: a.HierarchyGroupID, Tags: a.Tags}
}
