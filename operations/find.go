package operations

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/workflows"
)

// Filter selects conversations. Zero fields select everything; set fields
// combine with AND.
type Filter struct {
	TenantID string
	State    conversation.State
	// OlderThan keeps conversations whose workflow started longer ago.
	OlderThan time.Duration
	// Stuck keeps running conversations that are stuck (see Service).
	Stuck bool
	// Failed keeps conversations whose latest run failed, timed out or was
	// terminated.
	Failed bool
	// Limit bounds the result; zero means 100.
	Limit int
}

// MaxLimit bounds the calls one search returns.
const MaxLimit = 1000

// Validate reports a filter that is malformed or cannot be met, wrapping
// ErrInvalid: a tenant ID that is not one, an unknown state, a limit out
// of range.
func (f Filter) Validate() error {
	switch {
	case f.TenantID != "" && !tenant.ValidID(f.TenantID):
		return fmt.Errorf("%w: %.80q is not a tenant ID", ErrInvalid, f.TenantID)
	case f.Stuck && f.Failed:
		return fmt.Errorf("%w: a call cannot be both stuck (running) and failed (closed)", ErrInvalid)
	case f.State != "" && !f.State.Valid():
		return fmt.Errorf("%w: unknown state %.80q", ErrInvalid, f.State)
	case f.Limit < 0 || f.Limit > MaxLimit:
		return fmt.Errorf("%w: limit must be between 0 and %d", ErrInvalid, MaxLimit)
	case f.OlderThan < 0:
		return fmt.Errorf("%w: older-than must not be negative", ErrInvalid)
	}
	return nil
}

// Find returns the conversations the filter selects, newest first (the
// visibility store's order), each
// with its latest run's status. It searches Temporal's visibility store,
// where every conversation has a workflow, then reads each match's latest
// run and its row in Postgres.
func (s *Service) Find(ctx context.Context, f Filter) ([]Call, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	now := s.now()
	var out []Call
	seen := map[string]bool{}
	var token []byte
	for {
		resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: s.query(f, now), PageSize: 200, NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("search conversations: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			if seen[id] {
				continue // an older run of a conversation already listed
			}
			seen[id] = true
			tenantID, contact, ok := parseWorkflowID(id)
			if !ok || f.TenantID != "" && tenantID != f.TenantID {
				// Acted on only what the filter names, whatever the
				// visibility store matched.
				continue
			}
			w, err := s.describe(ctx, id)
			if err != nil {
				return nil, err
			}
			// Most candidates of a --stuck or --failed search fail on their
			// run alone: Postgres is read only for those that pass.
			call := Call{TenantID: tenantID, ContactID: contact, Workflow: w}
			if !s.runMatches(call, f, now) {
				continue
			}
			if call, err = s.withRow(ctx, call); err != nil {
				return nil, err
			}
			if f.State != "" && call.State() != f.State {
				continue
			}
			out = append(out, call)
			if len(out) == limit {
				return out, nil
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// query is the visibility query for the filter's candidates; runMatches
// then checks each against its latest run.
func (s *Service) query(f Filter, now time.Time) string {
	q := []string{"WorkflowType IN (" + quoteAll(workflows.ConversationWorkflowTypes()) + ")"}
	if f.TenantID != "" {
		q = append(q, "TenantId = "+quote(f.TenantID))
	}
	if f.State != "" && !f.Failed {
		states := []string{string(f.State)}
		if f.State == conversation.Copying || f.State == conversation.WaitingRecording {
			// A copy waiting for its recording records waiting_recording in
			// Postgres only; its search attribute still says copying.
			// runMatches then holds the call to Postgres's state.
			states = []string{string(conversation.Copying), string(conversation.WaitingRecording)}
		}
		q = append(q, "ConversationState IN ("+quoteAll(states)+")")
	}
	if f.OlderThan > 0 {
		q = append(q, "StartTime < "+quote(now.Add(-f.OlderThan).UTC().Format(time.RFC3339Nano)))
	}
	switch {
	case f.Stuck:
		q = append(q, "ExecutionStatus = 'Running'")
	case f.Failed:
		q = append(q, "ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated')")
	}
	return strings.Join(q, " AND ")
}

// runMatches checks a candidate's latest run against the filter: an older
// run may have matched the search while a newer one does not. The state,
// which Postgres holds, is checked after.
func (s *Service) runMatches(c Call, f Filter, now time.Time) bool {
	w := c.Workflow
	if w == nil {
		return false
	}
	if f.OlderThan > 0 && c.Age(now) < f.OlderThan {
		return false
	}
	if f.Stuck {
		stuck, _ := s.Stuck(c, now)
		return stuck
	}
	if f.Failed {
		return w.Status == "Failed" || w.Status == "TimedOut" || w.Status == "Terminated"
	}
	return true
}

// Stuck reports whether a running conversation is stuck, and why.
func (s *Service) Stuck(c Call, now time.Time) (bool, string) {
	w := c.Workflow
	if w == nil || w.Status != "Running" {
		return false, ""
	}
	if p := w.Trouble(); p != nil && s.StuckAttempts > 0 && p.Attempt >= s.StuckAttempts {
		return true, fmt.Sprintf("%s on attempt %d", p.Type, p.Attempt)
	}
	if s.StuckAfter > 0 && c.Age(now) >= s.StuckAfter {
		return true, "running for " + c.Age(now).Round(time.Second).String()
	}
	return false, ""
}

// parseWorkflowID reads tenant and contact back from a conversation's
// workflow ID.
func parseWorkflowID(id string) (tenant, contact string, ok bool) {
	rest, ok := strings.CutPrefix(id, "conversation/")
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "/")
}

// quote makes a string literal of a visibility query, escaping backslashes
// and quotes. Callers pass validated values only; quoting is the second
// line.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// quoteAll quotes each of ss for a visibility query, comma-separated.
func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

// FindStored returns the calls Postgres holds that the filter selects, most
// recently updated first, without asking Temporal: what an erasure acts
// on, since a call whose history has passed Temporal's retention is still
// held. OlderThan selects by when the call ended; Stuck and Failed, which
// only a run can tell, are refused.
func (s *Service) FindStored(ctx context.Context, f Filter) ([]Call, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Stuck || f.Failed {
		return nil, fmt.Errorf("%w: calls are selected from Postgres here: stuck and failed are a run's, use a state", ErrInvalid)
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	sf := store.ConversationFilter{TenantID: f.TenantID, State: f.State, Limit: limit}
	if f.OlderThan > 0 {
		sf.EndedBefore = s.now().Add(-f.OlderThan)
	}
	convs, recs, err := s.Conversations.List(ctx, sf)
	if err != nil {
		return nil, err
	}
	out := make([]Call, len(convs))
	for i := range convs {
		c := &convs[i]
		out[i] = Call{TenantID: c.TenantID, ContactID: c.ContactID, Conversation: c, Recordings: recs[c.TenantID+"/"+c.ContactID]}
	}
	return out, nil
}
