package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
)

func (a *app) callsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "calls", Short: "Find conversations, see where they are, retry and cancel them"}
	cmd.AddCommand(a.callsListCmd(), a.callsShowCmd(), a.callsRetryCmd(), a.callsCancelCmd(), a.callsEraseCmd())
	return cmd
}

// callService is what the calls commands work through, the same as the
// worker's admin API.
func (a *app) callService(ctx context.Context) (*operations.Service, error) {
	pool, err := a.db(ctx)
	if err != nil {
		return nil, err
	}
	tc, err := a.temporal(ctx)
	if err != nil {
		return nil, err
	}
	return operations.NewService(tc, store.NewConversations(pool), store.NewCTRVersions(pool), store.NewErasures(pool), a.cfg), nil
}

// filterFlags are the filter shared by list, retry and cancel.
func filterFlags(cmd *cobra.Command, f *operations.Filter) {
	fl := cmd.Flags()
	fl.StringVar(&f.TenantID, "tenant", "", "only this tenant")
	fl.StringVar((*string)(&f.State), "state", "", "only this state ("+stateNames()+")")
	fl.DurationVar(&f.OlderThan, "older-than", 0, "only conversations whose workflow started longer ago than this, such as 2h")
	fl.BoolVar(&f.Stuck, "stuck", false, "only running conversations past CALLS_STUCK_AFTER, or with an activity on attempt CALLS_STUCK_ATTEMPTS or later")
	fl.BoolVar(&f.Failed, "failed", false, "only conversations whose latest run failed, timed out or was terminated")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many conversations")
}

func (a *app) callsListCmd() *cobra.Command {
	var f operations.Filter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List conversations with their state, age and the activity in trouble",
		Long: "List conversations. With --stuck, --failed or --older-than it searches Temporal and shows each call's\n" +
			"latest run: its age, the activity in trouble, its attempt and last error. Otherwise it lists Postgres's\n" +
			"conversations, most recently updated first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var found []operations.Call
			var svc *operations.Service
			var err error
			if f.Stuck || f.Failed || f.OlderThan > 0 {
				if svc, err = a.callService(ctx); err != nil {
					return err
				}
				found, err = svc.Find(ctx, f)
			} else {
				svc, found, err = a.listStored(ctx, f)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(views(svc, found))
			}
			return a.printCalls(svc, found)
		},
	}
	filterFlags(cmd, &f)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (stable; see the README)")
	return cmd
}

// listStored lists conversations from Postgres alone: fast, without their
// workflows (the service it returns only views them).
func (a *app) listStored(ctx context.Context, f operations.Filter) (*operations.Service, []operations.Call, error) {
	pool, err := a.db(ctx)
	if err != nil {
		return nil, nil, err
	}
	convs, recs, err := store.NewConversations(pool).List(ctx, store.ConversationFilter{TenantID: f.TenantID, State: f.State, Limit: f.Limit})
	if err != nil {
		return nil, nil, err
	}
	out := make([]operations.Call, len(convs))
	for i := range convs {
		c := convs[i]
		out[i] = operations.Call{TenantID: c.TenantID, ContactID: c.ContactID, Conversation: &c, Recordings: recs[c.TenantID+"/"+c.ContactID]}
	}
	return operations.NewService(nil, nil, nil, nil, a.cfg), out, nil
}

func views(svc *operations.Service, found []operations.Call) []operations.View {
	out := make([]operations.View, len(found))
	for i, c := range found {
		out[i] = svc.View(c)
	}
	return out
}

func (a *app) printCalls(svc *operations.Service, found []operations.Call) error {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TENANT\tCONTACT\tSTATE\tCHANNEL\tAGENT\tRECORDINGS\tENQUEUED\tAGE\tIN TROUBLE\tATTEMPT\tLAST ERROR")
	now := time.Now()
	for _, c := range found {
		v := svc.View(c)
		enq := "-"
		if v.AnalysisEnqueuedAt != nil {
			enq = v.AnalysisEnqueuedAt.UTC().Format("15:04:05")
		}
		age, trouble, attempt, lastErr := "-", "-", "-", v.StateDetail
		if wf := c.Workflow; wf != nil {
			age = c.Age(now).Round(time.Second).String()
			if wf.LastFailure != "" {
				lastErr = wf.LastFailure
			}
			if worst := wf.Trouble(); worst != nil {
				trouble, attempt = worst.Type, fmt.Sprint(worst.Attempt)
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%.70s\n", v.TenantID, v.ContactID, v.State, dash(v.Channel),
			dash(v.AgentUsername), len(v.Recordings), enq, age, trouble, attempt, dash(oneLine(lastErr)))
	}
	return w.Flush()
}

func (a *app) callsShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show TENANT CONTACT_ID",
		Short: "Show one conversation: state, metadata, recordings, analysis, and its workflow's status",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := a.callService(ctx)
			if err != nil {
				return err
			}
			c, err := svc.Get(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			v := svc.View(c)
			if asJSON {
				return a.printJSON(v)
			}
			return a.printCall(v)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (stable; see the README)")
	return cmd
}

func (a *app) printCall(v operations.View) error {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
	row("tenant", v.TenantID)
	row("contact", v.ContactID)
	row("state", strings.TrimSpace(string(v.State)+" "+v.StateDetail))
	row("channel", strings.TrimSpace(v.Channel+" "+v.InitiationMethod))
	row("queue", dash(v.QueueName))
	row("agent", agentLine(v))
	row("started", ts(v.InitiationTimestamp))
	row("ended", ts(v.DisconnectTimestamp))
	row("CTR version", ts(v.LastUpdateTimestamp))
	row("transfers", fmt.Sprintf("initial %s, previous %s, next %s", dash(v.InitialContactID), dash(v.PreviousContactID), dash(v.NextContactID)))
	row("analysis enqueued", ts(v.AnalysisEnqueuedAt))
	for i, r := range v.Recordings {
		size := "-"
		if r.SizeBytes != nil {
			size = fmt.Sprintf("%d bytes", *r.SizeBytes)
		}
		row(fmt.Sprintf("recording %d", i+1), fmt.Sprintf("%s -> %s/%s, %s, sha256 %s", r.SourceLocation, r.Bucket, r.Key, size, dash(r.SHA256)))
	}
	row("workflow", v.WorkflowID)
	if wf := v.Workflow; wf != nil {
		status := fmt.Sprintf("%s (run %s, started %s, age %s)", wf.Status, wf.RunID, wf.StartTime.UTC().Format(time.RFC3339),
			time.Duration(wf.AgeSeconds)*time.Second)
		if v.Stuck != "" {
			status += "; stuck: " + v.Stuck
		}
		row("workflow status", status)
		for _, p := range wf.PendingActivities {
			next := ""
			if p.NextAttempt != nil {
				next = ", next attempt " + p.NextAttempt.UTC().Format(time.RFC3339)
			}
			row("pending activity", fmt.Sprintf("%s %s, attempt %d%s; last error: %s", p.Type, p.State, p.Attempt, next, dash(oneLine(p.LastFailure))))
		}
		row("last failure", dash(oneLine(wf.LastFailure)))
	} else {
		row("workflow status", "not in Temporal (closed and past retention)")
	}
	row("Temporal UI", v.TemporalURL)
	return w.Flush()
}

// agentLine describes the conversation's agent, as synced from Connect when
// the sync has seen the user.
func agentLine(v operations.View) string {
	if v.AgentUserID == "" {
		return dash(v.AgentUsername)
	}
	ag := v.Agent
	if ag == nil {
		return fmt.Sprintf("%s (%s; not synced yet)", dash(v.AgentUsername), v.AgentUserID)
	}
	line := fmt.Sprintf("%s (%s, %s", ag.Username, dash(joinName(ag.FirstName, ag.LastName)), dash(ag.Email))
	if !ag.Active {
		line += ", inactive"
	}
	return line + "; " + ag.UserID + ")"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ts(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// stateNames lists the conversation states for a flag's help.
func stateNames() string {
	names := make([]string, 0, len(conversation.States()))
	for _, s := range conversation.States() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}
