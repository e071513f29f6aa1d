package main

import (
	"fmt"
	"strings"
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
	var roles, tenants []string
	cmd := &cobra.Command{
		Use:   "create NAME --role ROLE[,ROLE] [--tenant T]...",
		Short: "Add an operator and print its token, this once (only its SHA-256 is stored)",
		Long: "Add an operator of the admin API. Roles, each implying read:\n" +
			"  read     list and show calls (metadata only)\n" +
			"  operate  retry and cancel calls\n" +
			"  erase    erase calls\n" +
			"  raw      read the raw bytes of quarantined records (phone numbers, attributes)\n" +
			"With --tenant the operator acts on those tenants' calls only.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			n := store.NewOperator{Name: args[0], Tenants: tenants}
			for _, r := range roles {
				n.Roles = append(n.Roles, store.Role(r))
			}
			token, err := store.NewOperators(pool).Create(cmd.Context(), n)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "operator %s (%s) created; its token, shown this once:\n", args[0], strings.Join(roles, ", "))
			fmt.Fprintln(a.stdout, token)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&roles, "role", []string{"read"}, "read, operate, erase, raw (repeat or comma-separate)")
	cmd.Flags().StringSliceVar(&tenants, "tenant", nil, "limit the operator to this tenant's calls (repeat for several; none: every tenant)")
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
			fmt.Fprintln(w, "NAME\tROLES\tTENANTS\tCREATED\tREVOKED")
			for _, o := range ops {
				revoked := "-"
				if o.RevokedAt != nil {
					revoked = o.RevokedAt.UTC().Format("2006-01-02 15:04:05")
				}
				scope := "all"
				if o.Scoped() {
					scope = strings.Join(o.Tenants, ",")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", o.Name, roleNames(o.Roles), scope,
					o.CreatedAt.UTC().Format("2006-01-02 15:04:05"), revoked)
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

func roleNames(roles []store.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ",")
}
