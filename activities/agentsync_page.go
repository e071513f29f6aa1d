package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/activity"
	"golang.org/x/time/rate"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// userPage is one page of one instance's users being synced.
type userPage struct {
	acts       *Activities
	tenant     tenant.Tenant
	in         SyncAgentsPageInput
	arn        string
	instanceID string
	client     *connect.Client
	limiter    *rate.Limiter
}

// errSearchRefused is SearchUsers refused for want of connect:SearchUsers.
var errSearchRefused = errors.New("SearchUsers refused")

// search reads a page with SearchUsers and stores its users.
func (p *userPage) search(ctx context.Context) (SyncAgentsPageResult, error) {
	req := &connect.SearchUsersInput{InstanceId: aws.String(p.instanceID), MaxResults: aws.Int32(searchPerPage)}
	if p.in.NextToken != "" {
		req.NextToken = aws.String(p.in.NextToken)
	}
	if err := p.limiter.Wait(ctx); err != nil {
		return SyncAgentsPageResult{}, err
	}
	out, err := p.client.SearchUsers(ctx, req)
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && api.ErrorCode() == "AccessDeniedException":
		return SyncAgentsPageResult{}, errSearchRefused
	case isClientError(err):
		return SyncAgentsPageResult{}, permanent(ErrTypeConnectRefused, fmt.Errorf("Amazon Connect refused SearchUsers for %s: %w", p.tenant.ID, err))
	case err != nil:
		return SyncAgentsPageResult{}, fmt.Errorf("search users of %s: %w", p.tenant.ID, err)
	}
	res := SyncAgentsPageResult{NextToken: aws.ToString(out.NextToken), Method: SyncBySearch, Listed: len(out.Users)}
	for i, u := range out.Users {
		activity.RecordHeartbeat(ctx, i)
		agent := store.Agent{
			TenantID: p.tenant.ID, UserID: aws.ToString(u.Id), Username: aws.ToString(u.Username),
			RoutingProfileID: aws.ToString(u.RoutingProfileId), SecurityProfileIDs: u.SecurityProfileIds,
			HierarchyGroupID: aws.ToString(u.HierarchyGroupId), Tags: u.Tags, EmailUnknown: true, SeenSync: p.in.SyncID,
		}
		if id := u.IdentityInfo; id != nil {
			agent.FirstName, agent.LastName = aws.ToString(id.FirstName), aws.ToString(id.LastName)
		}
		if !p.tenant.AgentFilter.Matches(filterView(agent)) {
			continue
		}
		if err := p.acts.Agents.Upsert(ctx, agent); err != nil {
			return SyncAgentsPageResult{}, err
		}
		res.Kept++
	}
	return res, nil
}

// list reads a page with ListUsers, describes the users changed since the
// last sync, and stores them.
func (p *userPage) list(ctx context.Context) (SyncAgentsPageResult, error) {
	req := &connect.ListUsersInput{InstanceId: aws.String(p.instanceID), MaxResults: aws.Int32(usersPerPage)}
	if p.in.NextToken != "" {
		req.NextToken = aws.String(p.in.NextToken)
	}
	if err := p.limiter.Wait(ctx); err != nil {
		return SyncAgentsPageResult{}, err
	}
	page, err := p.client.ListUsers(ctx, req)
	if isClientError(err) {
		return SyncAgentsPageResult{}, permanent(ErrTypeConnectRefused, fmt.Errorf("Amazon Connect refused ListUsers for %s: %w", p.tenant.ID, err))
	}
	if err != nil {
		return SyncAgentsPageResult{}, fmt.Errorf("list users of %s: %w", p.tenant.ID, err)
	}
	ids := make([]string, len(page.UserSummaryList))
	for i, sum := range page.UserSummaryList {
		ids[i] = aws.ToString(sum.Id)
	}
	known, err := p.acts.Agents.Known(ctx, p.tenant.ID, ids)
	if err != nil {
		return SyncAgentsPageResult{}, err
	}

	res := SyncAgentsPageResult{NextToken: aws.ToString(page.NextToken), Method: SyncByList, Listed: len(page.UserSummaryList)}
	var unchanged []string
	for i, sum := range page.UserSummaryList {
		activity.RecordHeartbeat(ctx, i)
		id := aws.ToString(sum.Id)
		if k, ok := known[id]; ok && k.LastModified != nil && sum.LastModifiedTime != nil && k.LastModified.Equal(*sum.LastModifiedTime) {
			if p.tenant.AgentFilter.Matches(filterView(k)) {
				unchanged = append(unchanged, id)
			}
			continue
		}
		if err := p.limiter.Wait(ctx); err != nil {
			return SyncAgentsPageResult{}, err
		}
		out, err := p.client.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String(p.instanceID), UserId: aws.String(id)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue // removed between the list and now: not seen, so deactivated
		}
		if err != nil {
			return SyncAgentsPageResult{}, fmt.Errorf("describe user %s of %s: %w", id, p.tenant.ID, err)
		}
		res.Described++
		agent := toAgent(p.tenant.ID, out.User, sum.LastModifiedTime)
		if !p.tenant.AgentFilter.Matches(filterView(agent)) {
			continue
		}
		agent.SeenSync = p.in.SyncID
		if err := p.acts.Agents.Upsert(ctx, agent); err != nil {
			return SyncAgentsPageResult{}, err
		}
		res.Kept++
	}
	if err := p.acts.Agents.MarkSeen(ctx, p.tenant.ID, p.in.SyncID, unchanged); err != nil {
		return SyncAgentsPageResult{}, err
	}
	res.Kept += len(unchanged)
	return res, nil
}
