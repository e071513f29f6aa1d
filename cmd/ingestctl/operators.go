package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
)

func (a *app) operatorsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "operators", Short: "Manage the admin API's operators and their tokens"}
	cmd.AddCommand(a.operatorsCreateCmd(), a.operatorsListCmd(), a.operatorsRevokeCmd())
	return cmd
}

func (a *app) operatorsCreateCmd() *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "create NAME --role read|operate",
		Short: "Add an operator and print its token, this once (only its SHA-256 is stored)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			token, err := store.NewOperators(pool).Create(cmd.Context(), args[0], store.Role(role))
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "operator %s (%s) created; its token, shown this once:\n", args[0], role)
			fmt.Fprintln(a.stdout, token)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "read", "read (list and show calls) or operate (also retry and cancel)")
	return cmd
}

func (a *app) operatorsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List operators, revoked ones included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			ops, err := store.NewOperators(pool).List(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tROLE\tCREATED\tREVOKED")
			for _, o := range ops {
				revoked := "-"
				if o.RevokedAt != nil {
					revoked = o.RevokedAt.UTC().Format("2006-01-02 15:04:05")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.Name, o.Role, o.CreatedAt.UTC().Format("2006-01-02 15:04:05"), revoked)
			}
			return w.Flush()
		},
	}
}

func (a *app) operatorsRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Refuse the operator's token from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			if err := store.NewOperators(pool).Revoke(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "operator %s revoked\n", args[0])
			return nil
		},
	}
}
