package main

import (
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
)

var (
	tenantIDPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	instanceARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/[A-Za-z0-9-]+$`)
)

func (a *app) tenantsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenants", Short: "Manage tenants and their Firehose access keys"}
	cmd.AddCommand(a.tenantsAddCmd(), a.tenantsListCmd(), a.tenantsKeysCmd(), a.tenantsRotateKeyCmd(), a.tenantsRevokeKeyCmd())
	return cmd
}

func (a *app) tenantsAddCmd() *cobra.Command {
	var t store.Tenant
	var key string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Create a tenant; prints a generated access key once unless --access-key is given",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !tenantIDPattern.MatchString(t.ID) {
				return fmt.Errorf("--id %q: want lower-case letters, digits, - and _, at most 63", t.ID)
			}
			if !instanceARNPattern.MatchString(t.InstanceARN) {
				return fmt.Errorf("--instance-arn %q: want arn:aws:connect:REGION:ACCOUNT:instance/ID", t.InstanceARN)
			}
			generated := key == ""
			if generated {
				key = accesskey.Generate()
			} else if err := accesskey.Validate(key); err != nil {
				return err
			}
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			ak, err := store.NewTenants(pool).Create(cmd.Context(), t, key)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "tenant %s created (key id %s)\n", t.ID, ak.KeyID)
			if generated {
				fmt.Fprintf(a.stdout, "access key (shown once, configure it on the Firehose stream): %s\n", key)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&t.ID, "id", "", "tenant ID (required)")
	f.StringVar(&t.Name, "name", "", "display name (required)")
	f.StringVar(&t.InstanceARN, "instance-arn", "", "Amazon Connect instance ARN (required)")
	f.StringArrayVar(&t.RecordingBuckets, "recording-bucket", nil, "S3 bucket the instance stores recordings in (repeatable)")
	f.StringVar(&key, "access-key", "", "use this access key instead of generating one")
	f.StringVar(&t.AWSEndpointURL, "aws-endpoint-url", "", "override AWS endpoints (a local stand-in such as http://127.0.0.1:9100)")
	f.StringVar(&t.AWSRoleARN, "aws-role-arn", "", "IAM role to assume in the tenant's account")
	f.StringVar(&t.AWSExternalID, "aws-external-id", "", "external ID for assuming --aws-role-arn")
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
			fmt.Fprintln(w, "ID\tNAME\tINSTANCE ARN\tRECORDING BUCKETS")
			for _, t := range ts {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.InstanceARN, strings.Join(t.RecordingBuckets, ","))
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// tenantJSON is the stable JSON form of a tenant.
type tenantJSON struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	InstanceARN      string   `json:"instanceArn"`
	RecordingBuckets []string `json:"recordingBuckets"`
	CreatedAt        string   `json:"createdAt"`
}

func toTenantJSON(t store.Tenant) tenantJSON {
	b := t.RecordingBuckets
	if b == nil {
		b = []string{}
	}
	return tenantJSON{ID: t.ID, Name: t.Name, InstanceARN: t.InstanceARN, RecordingBuckets: b, CreatedAt: t.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")}
}

func (a *app) tenantsKeysCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "keys TENANT",
		Short: "List a tenant's access keys (their IDs, never the keys)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			keys, err := store.NewTenants(pool).Keys(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "KEY ID\tCREATED\tREVOKED")
			for _, k := range keys {
				revoked := "-"
				if k.RevokedAt != nil {
					revoked = k.RevokedAt.UTC().Format("2006-01-02 15:04:05")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", k.KeyID, k.CreatedAt.UTC().Format("2006-01-02 15:04:05"), revoked)
			}
			return w.Flush()
		},
	}
}

func (a *app) tenantsRotateKeyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-key TENANT",
		Short: "Add a new access key; the old ones stay valid until revoked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			key := accesskey.Generate()
			ak, err := store.NewTenants(pool).AddKey(cmd.Context(), args[0], key)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "new access key for %s (key id %s, shown once): %s\n", args[0], ak.KeyID, key)
			fmt.Fprintf(a.stdout, "old keys stay valid; once Firehose uses the new one: ingestctl tenants revoke-key %s OLD_KEY_ID\n", args[0])
			return nil
		},
	}
}

func (a *app) tenantsRevokeKeyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke-key TENANT KEY_ID",
		Short: "Revoke an access key (gateways stop accepting it within GATEWAY_KEY_CACHE_TTL)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			if err := store.NewTenants(pool).RevokeKey(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "key %s of %s revoked\n", args[1], args[0])
			return nil
		},
	}
}
