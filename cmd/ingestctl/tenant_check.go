package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/accesscheck"
	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/store"
)

// errChecksFailed makes `tenants check` exit non-zero when a permission is
// missing, so that onboarding scripts can stop on it.
var errChecksFailed = errors.New("some checks did not pass")

func (a *app) tenantsCheckCmd() *cobra.Command {
	var endpoint, accessKey string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check TENANT [--endpoint https://HOST/firehose --access-key KEY]",
		Short: "Prove the tenant's AWS access: list and read its buckets, decrypt, call Connect; name each missing permission",
		Long: "Runs, with the worker's own AWS credentials, role and endpoints, each call connect-ingest makes on the\n" +
			"tenant's side: s3:ListBucket and s3:GetObject (with KMS decryption) on every recording bucket, and\n" +
			"connect:SearchUsers, ListUsers, DescribeUser and SearchContacts on the primary instance. Each missing\n" +
			"permission is printed with the policy statement that grants it. With --endpoint and --access-key it also\n" +
			"sends a delivery of no records through the public Firehose endpoint, as Firehose will.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			pool, err := a.db(ctx)
			if err != nil {
				return err
			}
			t, err := store.NewTenants(pool).Get(ctx, args[0])
			if err != nil {
				return err
			}
			c := accesscheck.Checker{AWS: &awsx.Clients{StandInAccessKey: a.cfg.Worker.StandInAccessKey,
				StandInSecretKey: a.cfg.Worker.StandInSecretKey, ConnectRate: a.cfg.Worker.ConnectRate, ConnectBurst: a.cfg.Worker.ConnectBurst}}
			results, err := c.Run(ctx, t)
			if err != nil {
				return err
			}
			if endpoint != "" {
				results = append(results, accesscheck.Delivery(ctx, &http.Client{Timeout: 30 * time.Second}, endpoint, accessKey))
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return err
				}
			} else {
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "CHECK\tRESULT\tDETAIL")
				for _, r := range results {
					fmt.Fprintf(w, "%s\t%s\t%s\n", r.Check, r.Status, r.Detail)
				}
				_ = w.Flush()
				for _, r := range results {
					if r.Fix != "" {
						fmt.Fprintf(a.stdout, "\nto fix %s, add:\n  %s\n", r.Check, r.Fix)
					}
				}
			}
			for _, r := range results {
				if r.Status == accesscheck.Missing || r.Status == accesscheck.Failed {
					return errChecksFailed
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&endpoint, "endpoint", "", "the public Firehose endpoint, https://HOST/firehose, for a test delivery")
	f.StringVar(&accessKey, "access-key", "", "the tenant's Firehose access key, for the test delivery")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagsRequiredTogether("endpoint", "access-key")
	return cmd
}
