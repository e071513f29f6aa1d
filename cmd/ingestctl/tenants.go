package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/agents"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/operations"
)

func (a *app) tenantsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenants", Short: "Manage tenants, their settings and their Firehose access keys"}
	cmd.AddCommand(a.tenantsAddCmd(), a.tenantsUpdateCmd(), a.tenantsShowCmd(), a.tenantsListCmd(), a.tenantsRemoveCmd(), a.tenantsRetentionCmd(),
		a.tenantsInstancesCmd(), a.tenantsCheckCmd(), a.tenantsKeysCmd(), a.tenantsRotateKeyCmd(), a.tenantsRevokeKeyCmd())
	return cmd
}

func (a *app) tenantsAddCmd() *cobra.Command {
	var id, key string
	var flags *tenantFlags
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Create a tenant and its agent-sync schedule; prints a generated access key once unless --access-key is given",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t := tenant.Tenant{ID: id}
			if err := flags.apply(&t, true); err != nil {
				return err
			}
			generated := key == ""
			if generated {
				key = accesskey.Generate()
			} else if err := accesskey.Validate(key); err != nil {
				return err
			}
			pool, err := a.db(ctx)
			if err != nil {
				return err
			}
			ak, err := store.NewTenants(pool).Create(ctx, t, key)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "tenant %s created (key id %s)\n", t.ID, ak.KeyID)
			if generated {
				fmt.Fprintf(a.stdout, "access key (shown once, configure it on the Firehose stream): %s\n", key)
			}
			return a.saveSchedule(ctx, t)
		},
	}
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "tenant ID (required)")
	f.StringVar(&key, "access-key", "", "use this access key instead of generating one")
	flags = newTenantFlags(f, false)
	for _, name := range []string{"id", "name", "instance-arn"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func (a *app) tenantsListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			ts, err := store.NewTenants(pool).List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]tenantJSON, len(ts))
				for i, t := range ts {
					out[i] = toTenantJSON(t)
				}
				return a.printJSON(out)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tINSTANCE ARN\tRECORDING BUCKETS\tAGENT SYNC")
			for _, t := range ts {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.InstanceARN, strings.Join(t.RecordingBuckets, ","), syncSummary(t))
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func retentionSummary(t tenant.Tenant) string {
	if t.RetentionDays <= 0 {
		return "none (kept until erased)"
	}
	return fmt.Sprintf("%s: calls erased %d days after they ended, daily (schedule %s)", tenant.FormatRetention(t.RetentionDays),
		t.RetentionDays, operations.RetentionID(t.ID))
}

func syncSummary(t tenant.Tenant) string {
	if t.SyncDisabled {
		return "disabled"
	}
	return "every " + t.SyncInterval.String()
}

// tenantJSON is the stable JSON form of a tenant. Fields are added, never
// renamed or removed.
type tenantJSON struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	InstanceARN      string   `json:"instanceArn"`
	RecordingBuckets []string `json:"recordingBuckets"`
	// Instances lists every instance, the primary (instanceArn) first.
	Instances          []instanceView `json:"instances"`
	AWSEndpointURL     string         `json:"awsEndpointUrl"`
	ConnectEndpointURL string         `json:"connectEndpointUrl"`
	AWSRoleARN         string         `json:"awsRoleArn"`
	AWSExternalID      string         `json:"awsExternalId"`
	AgentFilter        agents.Filter  `json:"agentFilter"`
	SyncInterval       string         `json:"syncInterval"`
	SyncEnabled        bool           `json:"syncEnabled"`
	// Retention is "90d", or "none".
	Retention string `json:"retention"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func toTenantJSON(t tenant.Tenant) tenantJSON {
	b := t.RecordingBuckets
	if b == nil {
		b = []string{}
	}
	return tenantJSON{
		ID: t.ID, Name: t.Name, InstanceARN: t.InstanceARN, RecordingBuckets: b, Instances: instanceViews(t),
		AWSEndpointURL: t.AWSEndpointURL, ConnectEndpointURL: t.ConnectEndpointURL,
		AWSRoleARN: t.AWSRoleARN, AWSExternalID: t.AWSExternalID, AgentFilter: t.AgentFilter,
		SyncInterval: t.SyncInterval.String(), SyncEnabled: !t.SyncDisabled, Retention: tenant.FormatRetention(t.RetentionDays),
		CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: t.UpdatedAt.UTC().Format(time.RFC3339),
	}
}
