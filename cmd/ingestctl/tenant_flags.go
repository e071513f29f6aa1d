package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/connectingest/connect-ingest/internal/agents"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// tenantFlags are the settings flags that `tenants add` and `tenants
// update` share. Update applies only the flags given on its command line.
type tenantFlags struct {
	fs *pflag.FlagSet
	t  tenant.Tenant
	// sync is the inverse of Tenant.SyncDisabled, as a flag reads best.
	sync bool
	// allUsers clears the agent filter (update only).
	allUsers bool
	// retention is --retention as typed: "90d" or "none".
	retention string
}

func newTenantFlags(fs *pflag.FlagSet, forUpdate bool) *tenantFlags {
	f := &tenantFlags{fs: fs}
	t := &f.t
	fs.StringVar(&t.Name, "name", "", "display name")
	fs.StringVar(&t.InstanceARN, "instance-arn", "", "Amazon Connect instance ARN (its region and instance ID follow from it)")
	fs.StringArrayVar(&t.RecordingBuckets, "recording-bucket", nil, "S3 bucket the instance stores recordings in (repeatable; on update, replaces the list)")
	fs.StringVar(&t.AWSEndpointURL, "aws-endpoint-url", "", "override AWS endpoints (a local stand-in such as http://127.0.0.1:9100)")
	fs.StringVar(&t.ConnectEndpointURL, "connect-endpoint-url", "", "override the Amazon Connect API endpoint (a local stand-in such as http://127.0.0.1:9200)")
	fs.StringVar(&t.AWSRoleARN, "aws-role-arn", "", "IAM role to assume in the tenant's account (empty: the default credential chain)")
	fs.StringVar(&t.AWSExternalID, "aws-external-id", "", "external ID for assuming --aws-role-arn")
	fs.StringArrayVar(&t.AgentFilter.RoutingProfileIDs, "agent-routing-profile", nil, "only users with this routing profile ID become agents (repeatable)")
	fs.StringArrayVar(&t.AgentFilter.SecurityProfileIDs, "agent-security-profile", nil, "only users with this security profile ID (repeatable)")
	fs.StringArrayVar(&t.AgentFilter.HierarchyGroupIDs, "agent-hierarchy-group", nil, "only users in this hierarchy group ID (repeatable)")
	fs.StringArrayVar(&t.AgentFilter.UsernamePatterns, "agent-username-pattern", nil, "only users whose username matches this shell pattern, such as 'agent.*' (repeatable)")
	fs.StringVar(&t.AgentFilter.Tag, "agent-tag", "", "only users with this tag, as key=value")
	fs.DurationVar(&t.SyncInterval, "sync-interval", tenant.DefaultSyncInterval, "how often the agent sync runs (at least 1m)")
	fs.BoolVar(&f.sync, "sync", true, "run the agent sync on its schedule (--sync=false pauses it)")
	fs.StringVar(&f.retention, "retention", "none", "erase conversations this many days after the call ended, such as 90d, daily; none keeps them")
	if forUpdate {
		fs.BoolVar(&f.allUsers, "agent-all-users", false, "clear the agent filter: every user becomes an agent")
	}
	return f
}

// apply copies the flags given on the command line onto t; with all set
// (add), every flag is copied, given or not.
func (f *tenantFlags) apply(t *tenant.Tenant, all bool) error {
	set := func(name string) bool { return all || f.fs.Changed(name) }
	if set("name") {
		t.Name = f.t.Name
	}
	if set("instance-arn") {
		t.InstanceARN = f.t.InstanceARN
	}
	if set("recording-bucket") {
		t.RecordingBuckets = f.t.RecordingBuckets
	}
	if set("aws-endpoint-url") {
		t.AWSEndpointURL = f.t.AWSEndpointURL
	}
	if set("connect-endpoint-url") {
		t.ConnectEndpointURL = f.t.ConnectEndpointURL
	}
	if set("aws-role-arn") {
		t.AWSRoleARN = f.t.AWSRoleARN
	}
	if set("aws-external-id") {
		t.AWSExternalID = f.t.AWSExternalID
	}
	if f.allUsers {
		t.AgentFilter = agents.Filter{}
	}
	if set("agent-routing-profile") {
		t.AgentFilter.RoutingProfileIDs = f.t.AgentFilter.RoutingProfileIDs
	}
	if set("agent-security-profile") {
		t.AgentFilter.SecurityProfileIDs = f.t.AgentFilter.SecurityProfileIDs
	}
	if set("agent-hierarchy-group") {
		t.AgentFilter.HierarchyGroupIDs = f.t.AgentFilter.HierarchyGroupIDs
	}
	if set("agent-username-pattern") {
		t.AgentFilter.UsernamePatterns = f.t.AgentFilter.UsernamePatterns
	}
	if set("agent-tag") {
		t.AgentFilter.Tag = f.t.AgentFilter.Tag
	}
	if set("sync-interval") {
		t.SyncInterval = f.t.SyncInterval
	}
	if set("sync") {
		t.SyncDisabled = !f.sync
	}
	if set("retention") {
		days, err := tenant.ParseRetention(f.retention)
		if err != nil {
			return fmt.Errorf("--retention: %w", err)
		}
		t.RetentionDays = days
	}
	return t.Validate()
}
