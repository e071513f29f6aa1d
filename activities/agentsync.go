package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/agents"
	"github.com/connectingest/connect-ingest/internal/store"
)

// usersPerPage is ListUsers' largest page; searchPerPage SearchUsers'.
const (
	usersPerPage  = 1000
	searchPerPage = 100
)

// How an agent sync reads an instance's users.
const (
	// SyncBySearch reads full user details with SearchUsers, 100 a call:
	// about 100 calls for 10,000 users, whatever changed.
	SyncBySearch = "search"
	// SyncByList lists users with ListUsers and describes those whose
	// LastModifiedTime changed, one DescribeUser call each: for a role
	// without connect:SearchUsers.
	SyncByList = "list"
)

// SyncAgentsPageInput names one page of one tenant's agent sync.
type SyncAgentsPageInput struct {
	TenantID string
	// SyncID identifies the sync (its first run), across continue-as-new.
	SyncID string
	// InstanceARN is the instance whose users this page reads; empty for
	// the tenant's primary.
	InstanceARN string
	// Method is SyncBySearch or SyncByList; empty tries SearchUsers and
	// falls back to listing when the role may not search.
	Method string
	// NextToken is the method's token for this page; empty for the first.
	NextToken string
}

// SyncAgentsPageResult counts what the page did; no user lists, so that the
// workflow's history stays bounded however many users there are.
type SyncAgentsPageResult struct {
	NextToken string
	// Method is how this page read the users; the next page of the same
	// instance passes it on.
	Method string
	// NextInstanceARN, when NextToken is empty, is the tenant's next
	// instance whose users the sync reads; empty when none is left.
	NextInstanceARN string
	Listed          int
	Described       int
	Kept            int
}

// SyncAgentsPage reads one page of the users of one of the tenant's
// instances and stores every user matching the tenant's filter as an
// active agent seen by this sync. It searches (SearchUsers: full details,
// no further call) where the role may, and otherwise lists and describes
// only the users whose LastModifiedTime changed since the last sync. All
// Connect calls wait on the tenant's rate limiter.
func (a *Activities) SyncAgentsPage(ctx context.Context, in SyncAgentsPageInput) (SyncAgentsPageResult, error) {
	t, err := a.Tenants.Get(ctx, in.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return SyncAgentsPageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeTenantNotFound, err)
	}
	if err != nil {
		return SyncAgentsPageResult{}, err
	}
	p := &userPage{acts: a, tenant: t, in: in, arn: cmp.Or(in.InstanceARN, t.InstanceARN), limiter: a.AWS.Limiter(t.ID)}
	synced := t.SyncedInstanceARNs()
	at := slices.Index(synced, p.arn)
	if at < 0 {
		// The instance was removed during the sync: its agents go unseen,
		// so the sync's end makes them inactive. The sync reads the
		// tenant's instances again from the primary, so that none it has
		// not read yet goes unseen with them; a page read twice only marks
		// its agents seen twice.
		return SyncAgentsPageResult{NextInstanceARN: synced[0]}, nil
	}
	if p.instanceID, err = InstanceID(p.arn); err != nil {
		return SyncAgentsPageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeTenantNotFound, err)
	}
	if p.client, err = a.AWS.Connect(ctx, t); err != nil {
		return SyncAgentsPageResult{}, err
	}
	var res SyncAgentsPageResult
	switch in.Method {
	case SyncByList:
		res, err = p.list(ctx)
	default:
		res, err = p.search(ctx)
		if errors.Is(err, errSearchRefused) {
			activity.GetLogger(ctx).Warn("the role may not search users; the agent sync lists and describes them",
				"tenant_id", t.ID, "instance", p.arn)
			p.in.NextToken = ""
			res, err = p.list(ctx)
		}
	}
	if err != nil {
		return SyncAgentsPageResult{}, err
	}
	if res.NextToken == "" && at+1 < len(synced) {
		res.NextInstanceARN = synced[at+1]
	}
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
