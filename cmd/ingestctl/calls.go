package main

import (
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/workflows"
)

func (a *app) callsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "calls", Short: "See where conversations ended"}
	cmd.AddCommand(a.callsListCmd(), a.callsShowCmd())
	return cmd
}

// callJSON is the stable JSON form of a conversation, documented in the
// README. Fields are added, never renamed or removed.
type callJSON struct {
	TenantID            string             `json:"tenantId"`
	ContactID           string             `json:"contactId"`
	State               string             `json:"state"`
	StateDetail         string             `json:"stateDetail"`
	Channel             string             `json:"channel"`
	InitiationMethod    string             `json:"initiationMethod"`
	QueueName           string             `json:"queueName"`
	AgentUsername       string             `json:"agentUsername"`
	AgentUserID         string             `json:"agentUserId"`
	Agent               *store.LinkedAgent `json:"agent"`
	InitiationTimestamp *time.Time         `json:"initiationTimestamp"`
	DisconnectTimestamp *time.Time         `json:"disconnectTimestamp"`
	LastUpdateTimestamp time.Time          `json:"lastUpdateTimestamp"`
	InitialContactID    string             `json:"initialContactId"`
	PreviousContactID   string             `json:"previousContactId"`
	NextContactID       string             `json:"nextContactId"`
	AnalysisEnqueuedAt  *time.Time         `json:"analysisEnqueuedAt"`
	Recordings          []recordingJSON    `json:"recordings"`
	WorkflowID          string             `json:"workflowId"`
	TemporalURL         string             `json:"temporalUrl"`
	UpdatedAt           time.Time          `json:"updatedAt"`
}

type recordingJSON struct {
	SourceLocation string     `json:"sourceLocation"`
	Participant    string     `json:"participant"`
	Bucket         string     `json:"bucket"`
	Key            string     `json:"key"`
	SizeBytes      *int64     `json:"sizeBytes"`
	SHA256         string     `json:"sha256"`
	CopiedAt       *time.Time `json:"copiedAt"`
}

func (a *app) toCallJSON(c store.Conversation, recs []store.Recording) callJSON {
	id := workflows.ConversationWorkflowID(c.TenantID, c.ContactID)
	out := callJSON{
		TenantID: c.TenantID, ContactID: c.ContactID, State: c.State, StateDetail: c.StateDetail, Channel: c.Channel,
		InitiationMethod: c.InitiationMethod, QueueName: c.QueueName, AgentUsername: c.AgentUsername,
		AgentUserID: c.AgentUserID, Agent: c.Agent, InitiationTimestamp: c.InitiationTimestamp, DisconnectTimestamp: c.DisconnectTimestamp,
		LastUpdateTimestamp: c.LastUpdateTimestamp, InitialContactID: c.InitialContactID,
		PreviousContactID: c.PreviousContactID, NextContactID: c.NextContactID, AnalysisEnqueuedAt: c.AnalysisEnqueuedAt,
		Recordings: []recordingJSON{}, WorkflowID: id, TemporalURL: a.temporalURL(id), UpdatedAt: c.UpdatedAt,
	}
	for _, r := range recs {
		out.Recordings = append(out.Recordings, recordingJSON{
			SourceLocation: r.SourceLocation, Participant: r.Participant, Bucket: r.ObjectBucket, Key: r.ObjectKey,
			SizeBytes: r.SizeBytes, SHA256: r.SHA256, CopiedAt: r.CopiedAt,
		})
	}
	return out
}

// temporalURL links to the workflow in the Temporal UI, through a visibility
// query so that the link finds the latest run.
func (a *app) temporalURL(workflowID string) string {
	q := url.QueryEscape(fmt.Sprintf("WorkflowId=%q", workflowID))
	return fmt.Sprintf("%s/namespaces/%s/workflows?query=%s", a.cfg.TemporalUI, url.PathEscape(a.cfg.Namespace), q)
}

func (a *app) callsListCmd() *cobra.Command {
	var f store.ConversationFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List conversations, most recently updated first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			convs, recs, err := store.NewConversations(pool).List(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]callJSON, len(convs))
				for i, c := range convs {
					out[i] = a.toCallJSON(c, recs[c.TenantID+"/"+c.ContactID])
				}
				return a.printJSON(out)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TENANT\tCONTACT\tSTATE\tCHANNEL\tAGENT\tRECORDINGS\tENQUEUED\tUPDATED\tDETAIL")
			for _, c := range convs {
				enq := "-"
				if c.AnalysisEnqueuedAt != nil {
					enq = c.AnalysisEnqueuedAt.UTC().Format("15:04:05")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%.60s\n", c.TenantID, c.ContactID, c.State, c.Channel,
					dash(c.AgentUsername), len(recs[c.TenantID+"/"+c.ContactID]), enq, c.UpdatedAt.UTC().Format("2006-01-02 15:04:05"), c.StateDetail)
			}
			return w.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.TenantID, "tenant", "", "only this tenant")
	fl.StringVar(&f.State, "state", "", "only this state (received, waiting_recording, copying, stored, enqueued, no_recording, recording_missing, rejected, failed, cancelled)")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many conversations")
	fl.BoolVar(&asJSON, "json", false, "print JSON (stable; see the README)")
	return cmd
}

func (a *app) callsShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show TENANT CONTACT_ID",
		Short: "Show one conversation: state, metadata, recordings, analysis and its workflow",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pool, err := a.db(cmd.Context())
			if err != nil {
				return err
			}
			c, recs, err := store.NewConversations(pool).Get(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			out := a.toCallJSON(c, recs)
			if asJSON {
				return a.printJSON(out)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
			row("tenant", out.TenantID)
			row("contact", out.ContactID)
			row("state", out.State+" "+out.StateDetail)
			row("channel", out.Channel+" "+out.InitiationMethod)
			row("queue", dash(out.QueueName))
			row("agent", agentLine(out))
			row("started", ts(out.InitiationTimestamp))
			row("ended", ts(out.DisconnectTimestamp))
			row("CTR version", out.LastUpdateTimestamp.UTC().Format(time.RFC3339))
			row("transfers", fmt.Sprintf("initial %s, previous %s, next %s", dash(out.InitialContactID), dash(out.PreviousContactID), dash(out.NextContactID)))
			row("analysis enqueued", ts(out.AnalysisEnqueuedAt))
			for i, r := range out.Recordings {
				size := "-"
				if r.SizeBytes != nil {
					size = fmt.Sprintf("%d bytes", *r.SizeBytes)
				}
				row(fmt.Sprintf("recording %d", i+1), fmt.Sprintf("%s -> %s/%s, %s, sha256 %s", r.SourceLocation, r.Bucket, r.Key, size, dash(r.SHA256)))
			}
			row("workflow", out.WorkflowID)
			row("Temporal UI", out.TemporalURL)
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (stable; see the README)")
	return cmd
}

// agentLine describes the conversation's agent, as synced from Connect when
// the sync has seen the user.
func agentLine(c callJSON) string {
	if c.AgentUserID == "" {
		return dash(c.AgentUsername)
	}
	a := c.Agent
	if a == nil {
		return fmt.Sprintf("%s (%s; not synced yet)", dash(c.AgentUsername), c.AgentUserID)
	}
	line := fmt.Sprintf("%s (%s, %s", a.Username, dash(joinName(a.FirstName, a.LastName)), dash(a.Email))
	if !a.Active {
		line += ", inactive"
	}
	return line + "; " + a.UserID + ")"
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
