package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
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

// auditedActs names, by command, every privileged act ingestctl takes:
// each is written to the audit log as an intent before it runs, and does
// not run when that fails (see audited). Reading raw CTR bytes is one.
var auditedActs = map[string]string{
	"tenants add":              "tenant-add",
	"tenants update":           "tenant-update",
	"tenants remove":           "tenant-remove",
	"tenants rotate-key":       "key-rotate",
	"tenants revoke-key":       "key-revoke",
	"tenants instances add":    "instance-add",
	"tenants instances remove": "instance-remove",
	"tenants retention-run":    "retention-run",
	"operators create":         "operator-create",
	"operators revoke":         "operator-revoke",
	"agents sync":              "agent-sync",
	"replay":                   "replay",
	"reconcile run":            "reconcile",
	"backfill":                 "backfill",
	"calls retry":              "retry",
	"calls cancel":             "cancel",
	"calls erase":              "erase",
	"rejected list":            "read-raw",
	"deadletters list":         "read-raw",
}

// bulkActs are the audited acts that take a filter in place of one call:
// without arguments they are recorded as bulk-<act>.
var bulkActs = map[string]bool{"retry": true, "cancel": true, "erase": true}

// auditCommands wraps every command auditedActs names in audited.
func (a *app) auditCommands(root *cobra.Command) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if action, ok := auditedActs[strings.TrimPrefix(c.CommandPath(), root.Name()+" ")]; ok && c.RunE != nil {
			run := c.RunE
			c.RunE = func(cmd *cobra.Command, args []string) error { return a.audited(cmd, action, args, run) }
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// audited runs a command's act under an audit entry written before it:
// who (actor), the act, its arguments as the target and its flags (secrets
// masked). The entry is completed with the outcome, and with the calls a
// bulk act touched (app.entry); an act refused for an erased contact is
// recorded as refused.
func (a *app) audited(cmd *cobra.Command, action string, args []string, run func(*cobra.Command, []string) error) error {
	ctx := cmd.Context()
	pool, err := a.db(ctx)
	if err != nil {
		return fmt.Errorf("nothing done: %w", err)
	}
	if bulkActs[action] && len(args) == 0 {
		action = "bulk-" + action
	}
	e := store.AuditEntry{Operator: actor(), Action: action, Target: strings.Join(args, "/"), Filter: map[string]any{}}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "reason" {
			e.Reason = f.Value.String()
			return
		}
		v := f.Value.String()
		if secretFlag.MatchString(f.Name) {
			v = "(set)"
		}
		e.Filter[f.Name] = v
	})
	return store.NewAudit(pool).Act(ctx, e, func(e *store.AuditEntry) error {
		a.entry = e
		defer func() { a.entry = nil }()
		err := run(cmd, args)
		if errors.Is(err, operations.ErrErased) {
			return store.Refused(err)
		}
		return err
	})
}

// secretFlag matches the names of flags whose values the audit log does
// not keep.
var secretFlag = regexp.MustCompile(`key|secret|token|password|external-id`)

// noteCall records a call the running audited act touched, and a summary.
func (a *app) noteCall(call, detail string) {
	if a.entry == nil {
		return
	}
	if call != "" {
		a.entry.Calls = append(a.entry.Calls, call)
	}
	if detail != "" {
		a.entry.Detail = detail
	}
}

func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log: every privileged act, written before it ran, with its outcome"}
	cmd.AddCommand(a.auditListCmd())
	return cmd
}

// auditJSON is the stable JSON form of an audit entry (store.AuditEntry's
// fields, in its order).
type auditJSON struct {
	ID          int64          `json:"id"`
	At          time.Time      `json:"at"`
	Operator    string         `json:"operator"`
	Action      string         `json:"action"`
	Target      string         `json:"target,omitempty"`
	Filter      map[string]any `json:"filter,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	Outcome     string         `json:"outcome"`
	Detail      string         `json:"detail,omitempty"`
	Calls       []string       `json:"calls,omitempty"`
	CompletedAt *time.Time     `json:"completedAt,omitempty"`
}

func (a *app) auditListCmd() *cobra.Command {
	var f store.AuditFilter
	var since time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit entries, newest first: who did what, when, and how it went (pending: not completed)",
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
	fl.StringVar(&f.Action, "action", "", "only this act (retry, erase, tenant-add, read-raw, ...)")
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
