package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
)

func (a *app) reconcileCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "reconcile", Short: "Compare the contacts Amazon Connect reports with what was ingested, and recover the missing"}
	cmd.AddCommand(a.reconcileListCmd(), a.reconcileRunCmd())
	return cmd
}

// reconciliationJSON is the stable JSON form of a reconciliation run.
type reconciliationJSON struct {
	RunID         string     `json:"runId"`
	Kind          string     `json:"kind"`
	From          time.Time  `json:"from"`
	To            time.Time  `json:"to"`
	DryRun        bool       `json:"dryRun"`
	StartedAt     time.Time  `json:"startedAt"`
	FinishedAt    *time.Time `json:"finishedAt"`
	Reported      int        `json:"reported"`
	Present       int        `json:"present"`
	Recovered     int        `json:"recovered"`
	Unrecoverable int        `json:"unrecoverable"`
	Analysed      int        `json:"analysed"`
	// Erased counts the contacts Connect reported that were erased:
	// refused, never recovered.
	Erased int `json:"erased"`
	// QuietHours counts the hours of the window in which Connect had calls
	// and Firehose delivered none; QuietFrom is the first.
	QuietHours int        `json:"quietHours"`
	QuietFrom  *time.Time `json:"quietFrom"`
	// Failure says why the run stopped early; empty when it did not.
	Failure string                  `json:"failure"`
	Missing []reconciledContactJSON `json:"missing"`
}

type reconciledContactJSON struct {
	ContactID string `json:"contactId"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason"`
}

func (a *app) reconcileListCmd() *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list TENANT",
		Short: "List the tenant's reconciliation and backfill runs, newest first, with what each found",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, _, err := a.tenant(ctx, args[0]); err != nil {
				return err
			}
			recs := store.NewReconciliations(a.pool)
			runs, err := recs.List(ctx, args[0], limit)
			if err != nil {
				return err
			}
			out := make([]reconciliationJSON, 0, len(runs))
			for _, r := range runs {
				j := reconciliationJSON{RunID: r.RunID, Kind: r.Kind, From: r.From, To: r.To, DryRun: r.DryRun, StartedAt: r.StartedAt,
					FinishedAt: r.FinishedAt, Reported: r.Seen, Present: r.Present, Recovered: r.Recovered, Unrecoverable: r.Unrecoverable,
					Analysed: r.Analysed, Erased: r.Erased, QuietHours: r.QuietHours, QuietFrom: r.QuietFrom, Failure: r.Failure, Missing: []reconciledContactJSON{}}
				contacts, err := recs.Contacts(ctx, args[0], r.RunID, 1000)
				if err != nil {
					return err
				}
				for _, c := range contacts {
					j.Missing = append(j.Missing, reconciledContactJSON{ContactID: c.ContactID, Outcome: c.Outcome, Reason: c.Reason})
				}
				out = append(out, j)
			}
			if asJSON {
				return a.printJSON(out)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "STARTED\tKIND\tWINDOW\tREPORTED\tPRESENT\tRECOVERED\tUNRECOVERABLE\tERASED\tANALYSED\tQUIET HOURS\tFINISHED\tRUN")
			for _, r := range out {
				kind := r.Kind
				if r.DryRun {
					kind += " (dry run)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s to %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", ts(&r.StartedAt), kind, r.From.Format(time.RFC3339),
					r.To.Format(time.RFC3339), r.Reported, r.Present, r.Recovered, r.Unrecoverable, r.Erased, r.Analysed, r.QuietHours,
					ts(r.FinishedAt), r.RunID)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			for _, r := range out {
				if r.Failure != "" {
					fmt.Fprintf(a.stdout, "%s stopped: %s\n", r.RunID, r.Failure)
				}
				for _, m := range r.Missing {
					if m.Outcome == store.Unrecoverable {
						fmt.Fprintf(a.stdout, "%s: %s unrecoverable: %s\n", r.RunID, m.ContactID, m.Reason)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (stable; see the README)")
	cmd.Flags().IntVar(&limit, "limit", 20, "runs to list")
	return cmd
}

func (a *app) reconcileRunCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "run TENANT",
		Short: "Run the tenant's nightly reconciliation now, over its usual window, and follow it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, _, err := a.tenant(ctx, args[0])
			if err != nil {
				return err
			}
			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			run, err := operations.RunReconcile(ctx, c, a.cfg.TaskQueue, t)
			if err != nil {
				return err
			}
			return a.followReconcile(ctx, c, t.ID, run, false)
		},
	}
}

func (a *app) backfillCmd() *cobra.Command {
	var from, to string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "backfill TENANT --from TIME --to TIME",
		Short: "Recover every contact Amazon Connect has from a past range that was never ingested, with a progress bar",
		Long: "Page through the contacts that ended between --from and --to (RFC 3339) with Connect's SearchContacts, under the\n" +
			"tenant's API limit, and recover each one connect-ingest lacks through its conversation workflow, as the nightly\n" +
			"reconciliation does. The run is a Temporal workflow: it resumes after a restart, and asking for the same range\n" +
			"again follows the run under way. Nothing already there is ingested twice. --dry-run counts what would be\n" +
			"recovered and recovers nothing.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, t, err := parseRange(from, to)
			if err != nil {
				return err
			}
			if _, _, err := a.tenant(ctx, args[0]); err != nil {
				return err
			}
			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			run, err := operations.StartBackfill(ctx, c, a.cfg.TaskQueue, args[0], f, t, dryRun)
			if err != nil {
				return err
			}
			return a.followReconcile(ctx, c, args[0], run, dryRun)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "start of the range, RFC 3339 (required)")
	cmd.Flags().StringVar(&to, "to", "", "end of the range, RFC 3339 (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be recovered, and recover nothing")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// followReconcile waits for a reconciliation run with a progress bar over
// the contacts Connect reported so far, then prints what it found.
func (a *app) followReconcile(ctx context.Context, c client.Client, tenantID string, run operations.ReconcileRun, dryRun bool) error {
	fmt.Fprintf(a.stdout, "reconciliation %s\n", run.WorkflowID)
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("contacts compared"),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	res, err := operations.WaitReconcile(ctx, c, run, func(p store.ReconcileCounts) { _ = bar.Set(p.Seen) })
	_ = bar.Finish()
	if err != nil {
		return err
	}
	verb := "recovered"
	if dryRun {
		verb = "would be recovered"
	}
	n := res.Counts
	fmt.Fprintf(a.stdout, "%s to %s: %d contacts in Connect, %d already ingested, %d %s, %d unrecoverable, %d erased (refused); %d analysed\n",
		res.From.Format(time.RFC3339), res.To.Format(time.RFC3339), n.Seen, n.Present, n.Recovered, verb, n.Unrecoverable, n.Erased, n.Analysed)
	if res.QuietHours > 0 {
		fmt.Fprintf(a.stdout, "the stream was quiet for %d hours from %s: Connect had calls, Firehose delivered none\n",
			res.QuietHours, res.QuietFrom.UTC().Format(time.RFC3339))
	}
	if n.Unrecoverable > 0 {
		fmt.Fprintf(a.stdout, "see `ingestctl reconcile list %s` for why\n", tenantID)
	}
	return nil
}
