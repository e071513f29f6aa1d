package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

func (a *app) tenantsInstancesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "instances",
		Short: "List, add and remove a tenant's Amazon Connect instances (other countries, Global Resiliency replicas)",
	}
	cmd.AddCommand(a.instancesListCmd(), a.instancesAddCmd(), a.instancesRemoveCmd())
	return cmd
}

// instanceView is one instance as `tenants instances list --json` prints it.
type instanceView struct {
	ARN              string   `json:"instanceArn"`
	Primary          bool     `json:"primary"`
	RecordingBuckets []string `json:"recordingBuckets"`
	ReplicaOf        string   `json:"replicaOf,omitempty"`
	AgentsSynced     bool     `json:"agentsSynced"`
}

func instanceViews(t tenant.Tenant) []instanceView {
	out := []instanceView{{ARN: t.InstanceARN, Primary: true, RecordingBuckets: nonNil(t.RecordingBuckets), AgentsSynced: true}}
	for _, in := range t.Instances {
		out = append(out, instanceView{ARN: in.ARN, RecordingBuckets: nonNil(in.RecordingBuckets), ReplicaOf: in.ReplicaOf,
			AgentsSynced: in.ReplicaOf == ""})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *app) instancesListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list TENANT",
		Short: "List the tenant's instances: the primary first, then the others",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			t, err := store.NewTenants(pool).Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			views := instanceViews(t)
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(views)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "INSTANCE\tROLE\tRECORDING BUCKETS\tAGENTS")
			for _, v := range views {
				role := "other"
				switch {
				case v.Primary:
					role = "primary"
				case v.ReplicaOf != "":
					role = "replica of " + v.ReplicaOf
				}
				agents := "synced"
				if !v.AgentsSynced {
					agents = "from the replicated instance"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", v.ARN, role, cmp.Or(strings.Join(v.RecordingBuckets, ","), "-"), agents)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) instancesAddCmd() *cobra.Command {
	var in tenant.Instance
	cmd := &cobra.Command{
		Use:   "add TENANT --instance-arn ARN [--recording-bucket B]... [--replica-of ARN]",
		Short: "Accept CTRs from another Amazon Connect instance of the tenant, and copy recordings from its buckets",
		Long: "Adds an instance to a tenant. A Global Resiliency replica has the same instance ID as the instance it\n" +
			"replicates, in another Region: name it with --replica-of so that failover day delivers into the same\n" +
			"tenant. The gateway accepts the instance's CTRs within its tenant cache's lifetime.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			if err := store.NewTenants(pool).AddInstance(cmd.Context(), args[0], in); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "tenant %s: instance %s added\n", args[0], in.ARN)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.ARN, "instance-arn", "", "the instance's ARN (required)")
	f.StringSliceVar(&in.RecordingBuckets, "recording-bucket", nil, "a bucket the instance records into (repeatable)")
	f.StringVar(&in.ReplicaOf, "replica-of", "", "the tenant's instance this one replicates (Global Resiliency)")
	_ = cmd.MarkFlagRequired("instance-arn")
	return cmd
}

func (a *app) instancesRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove TENANT INSTANCE_ARN",
		Short: "Stop accepting CTRs from one of the tenant's instances (not its primary)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			if err := store.NewTenants(pool).RemoveInstance(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "tenant %s: instance %s removed\n", args[0], args[1])
			return nil
		},
	}
}
