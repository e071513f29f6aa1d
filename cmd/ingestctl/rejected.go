package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
)

func (a *app) rejectedCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rejected", Short: "Inspect quarantined Firehose records"}
	cmd.AddCommand(a.rejectedListCmd())
	return cmd
}

func (a *app) rejectedListCmd() *cobra.Command {
	var f store.RejectedFilter
	var since time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List quarantined records, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since > 0 {
				f.Since = time.Now().Add(-since)
			}
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			recs, err := store.NewQuarantine(pool).List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]operations.RejectedView, len(recs))
				for i, r := range recs {
					out[i] = operations.NewRejectedView(r)
				}
				return a.printJSON(out)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTENANT\tRECEIVED\tFIREHOSE REQUEST\tRECORD\tREASON\tBYTES\tKEPT\tDETAIL")
			for _, r := range recs {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%.100s\n", r.ID, r.TenantID,
					r.ReceivedAt.UTC().Format("2006-01-02 15:04:05"), r.FirehoseRequestID, r.RecordIndex, r.Reason,
					r.RawLength, len(r.RawData), r.Detail)
			}
			return w.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.TenantID, "tenant", "", "only this tenant")
	fl.StringVar(&f.Reason, "reason", "", "only this reason (bad_base64, not_json, instance_mismatch, ...)")
	fl.DurationVar(&since, "since", 0, "only records received within this duration (e.g. 24h)")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many records")
	fl.BoolVar(&asJSON, "json", false, "print JSON (rawData is base64)")
	return cmd
}
