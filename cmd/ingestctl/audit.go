package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
)

// actor names who runs ingestctl in the audit log: the login name, as
// ingestctl:NAME, so that it never passes for an admin API operator.
func actor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "ingestctl:" + u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return "ingestctl:" + n
	}
	return "ingestctl"
}

// recordAudit writes an action ingestctl took to the audit log, with its
// outcome (err nil: ok). It returns an error only when the entry could not
// be written.
func (a *app) recordAudit(ctx context.Context, e store.AuditEntry, err error) error {
	e.Operator, e.Outcome = actor(), "ok"
	if err != nil {
		e.Outcome = "error"
		if e.Detail == "" {
			e.Detail = err.Error()
		}
	}
	pool, perr := a.db(ctx)
	if perr != nil {
		return fmt.Errorf("audit entry not written: %w", perr)
	}
	if perr := store.NewAudit(pool).Put(context.WithoutCancel(ctx), e); perr != nil {
		return fmt.Errorf("audit entry not written: %w", perr)
	}
	return nil
}

func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log of operators' retries and cancels"}
	cmd.AddCommand(a.auditListCmd())
	return cmd
}

// auditJSON is the stable JSON form of an audit entry (store.AuditEntry's
// fields, in its order).
type auditJSON struct {
	ID       int64          `json:"id"`
	At       time.Time      `json:"at"`
	Operator string         `json:"operator"`
	Action   string         `json:"action"`
	Target   string         `json:"target,omitempty"`
	Filter   map[string]any `json:"filter,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Outcome  string         `json:"outcome"`
	Detail   string         `json:"detail,omitempty"`
}

func (a *app) auditListCmd() *cobra.Command {
	var f store.AuditFilter
	var since time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit entries, newest first: who retried or cancelled what, when, and how it went",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since > 0 {
				f.Since = time.Now().Add(-since)
			}
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			entries, err := store.NewAudit(pool).List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]auditJSON, len(entries))
				for i, e := range entries {
					out[i] = auditJSON(e)
				}
				return a.printJSON(out)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "AT\tOPERATOR\tACTION\tTARGET\tOUTCOME\tREASON\tDETAIL")
			for _, e := range entries {
				target := e.Target
				if target == "" {
					target = filterText(e.Filter)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%.60s\t%.100s\n", e.At.UTC().Format("2006-01-02 15:04:05"),
					e.Operator, e.Action, target, e.Outcome, e.Reason, e.Detail)
			}
			return w.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Operator, "operator", "", "only this operator")
	fl.DurationVar(&since, "since", 0, "only entries within this duration (e.g. 24h)")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many entries")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// filterText shows a bulk action's filter in one cell: its set fields.
func filterText(f map[string]any) string {
	s := ""
	for _, k := range []string{"tenant", "state", "olderThan", "stuck", "failed", "limit"} {
		switch v := f[k].(type) {
		case string:
			if v != "" && v != "0s" {
				s += k + "=" + v + " "
			}
		case bool:
			if v {
				s += k + " "
			}
		case float64:
			if v != 0 {
				s += fmt.Sprintf("%s=%g ", k, v)
			}
		}
	}
	if s == "" {
		return "(filter)"
	}
	return s[:len(s)-1]
}
