package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
)

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
