package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
)

// filterQuery reads a filter from GET /v1/calls's query string, with the
// same names and rules as a bulk action's body.
func filterQuery(r *http.Request) (operations.Filter, error) {
	q := r.URL.Query()
	b := bulkRequest{TenantID: q.Get("tenant"), State: q.Get("state"), OlderThan: q.Get("olderThan")}
	var err error
	for name, dst := range map[string]*bool{"stuck": &b.Stuck, "failed": &b.Failed} {
		if v := q.Get(name); v != "" {
			if *dst, err = strconv.ParseBool(v); err != nil {
				return operations.Filter{}, badRequest{fmt.Errorf("%s: %w", name, err)}
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		if b.Limit, err = strconv.Atoi(v); err != nil {
			return operations.Filter{}, badRequest{fmt.Errorf("limit: %w", err)}
		}
	}
	return b.filter(false)
}

func (a *adminAPI) views(found []operations.Call) []operations.View {
	out := make([]operations.View, len(found))
	for i, c := range found {
		out[i] = a.svc.View(c)
	}
	return out
}

func (a *adminAPI) list(w http.ResponseWriter, r *http.Request) error {
	f, err := filterQuery(r)
	if err != nil {
		return err
	}
	if err := a.permitFilter(r, f); err != nil {
		return err
	}
	found, err := a.svc.Find(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": a.views(found)})
	return nil
}

func (a *adminAPI) show(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.Get(r.Context(), r.PathValue("tenant"), r.PathValue("contactId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.svc.View(c))
	return nil
}

// retryResult is the JSON answer to a retry.
type retryResult struct {
	TenantID        string `json:"tenantId"`
	ContactID       string `json:"contactId"`
	Action          string `json:"action"`
	ActivitiesReset int    `json:"activitiesReset"`
	RunID           string `json:"runId"`
	Error           string `json:"error,omitempty"`
}

func (a *adminAPI) retry(w http.ResponseWriter, r *http.Request) error {
	tenant, contact := r.PathValue("tenant"), r.PathValue("contactId")
	var res operations.RetryResult
	err := a.act(r, store.AuditEntry{Action: "retry", Target: tenant + "/" + contact}, func(e *store.AuditEntry) error {
		var err error
		res, err = a.svc.Retry(r.Context(), tenant, contact)
		e.Detail = res.Action
		return err
	})
	if err != nil {
		return err
	}
	a.log.Info("call retried", "operator", operatorOf(r).Name, "tenant_id", tenant, "contact_id", contact, "action", res.Action)
	writeJSON(w, http.StatusOK, retryResult{TenantID: tenant, ContactID: contact, Action: res.Action, ActivitiesReset: res.ActivitiesReset, RunID: res.RunID})
	return nil
}

// reasonRequest is the body of a cancel or an erasure.
type reasonRequest struct {
	Reason string `json:"reason"`
}

// readReason reads a body that must give a reason.
func readReason(r *http.Request) (string, error) {
	var req reasonRequest
	if err := readJSON(r, &req); err != nil {
		return "", err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return "", badRequest{errors.New("reason is required")}
	}
	return req.Reason, nil
}

// cancelResult is the JSON answer to a cancel.
type cancelResult struct {
	TenantID   string `json:"tenantId"`
	ContactID  string `json:"contactId"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Error      string `json:"error,omitempty"`
}

func (a *adminAPI) cancel(w http.ResponseWriter, r *http.Request) error {
	reason, err := readReason(r)
	if err != nil {
		return err
	}
	tenant, contact := r.PathValue("tenant"), r.PathValue("contactId")
	var res operations.CancelResult
	err = a.act(r, store.AuditEntry{Action: "cancel", Target: tenant + "/" + contact, Reason: reason}, func(*store.AuditEntry) error {
		var err error
		res, err = a.svc.Cancel(r.Context(), tenant, contact, reason)
		return err
	})
	if err != nil {
		return err
	}
	a.log.Info("call cancelled", "operator", operatorOf(r).Name, "tenant_id", tenant, "contact_id", contact, "workflow_id", res.WorkflowID, "reason", reason)
	writeJSON(w, http.StatusAccepted, cancelResult{TenantID: tenant, ContactID: contact, WorkflowID: res.WorkflowID, RunID: res.RunID})
	return nil
}

// eraseResult is the JSON answer to an erasure: the workflow that erases
// the call, to follow in the Temporal UI or with GET /v1/calls/{tenant}/{contactId}.
// Held is false for a contact connect-ingest held nothing of yet: its
// tombstone is written and its CTRs will be refused.
type eraseResult struct {
	TenantID   string `json:"tenantId"`
	ContactID  string `json:"contactId"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Held       bool   `json:"held"`
	Error      string `json:"error,omitempty"`
}

func (a *adminAPI) erase(w http.ResponseWriter, r *http.Request) error {
	reason, err := readReason(r)
	if err != nil {
		return err
	}
	tenant, contact := r.PathValue("tenant"), r.PathValue("contactId")
	op := operatorOf(r).Name
	var res operations.EraseRun
	err = a.act(r, store.AuditEntry{Action: "erase", Target: tenant + "/" + contact, Reason: reason}, func(e *store.AuditEntry) error {
		var err error
		res, err = a.svc.Erase(r.Context(), tenant, contact, reason, "operator:"+op)
		if err == nil && !res.Held {
			e.Detail = "nothing held yet: tombstone written"
		}
		return err
	})
	if err != nil {
		return err
	}
	a.log.Info("call erasure started", "operator", op, "tenant_id", tenant, "contact_id", contact, "workflow_id", res.WorkflowID, "held", res.Held)
	writeJSON(w, http.StatusAccepted, eraseResult{TenantID: tenant, ContactID: contact, WorkflowID: res.WorkflowID, RunID: res.RunID, Held: res.Held})
	return nil
}

// bulkRequest selects calls for a bulk action.
type bulkRequest struct {
	TenantID  string `json:"tenant"`
	State     string `json:"state"`
	OlderThan string `json:"olderThan"`
	Stuck     bool   `json:"stuck"`
	Failed    bool   `json:"failed"`
	Limit     int    `json:"limit"`
	DryRun    bool   `json:"dryRun"`
	Reason    string `json:"reason"`
}

// filter is the request's filter; a bulk action needs at least one
// condition, so that no request touches every call by omission.
func (b bulkRequest) filter(bulk bool) (operations.Filter, error) {
	f := operations.Filter{TenantID: b.TenantID, State: conversation.State(b.State), Stuck: b.Stuck, Failed: b.Failed, Limit: b.Limit}
	if b.OlderThan != "" {
		d, err := time.ParseDuration(b.OlderThan)
		if err != nil {
			return f, badRequest{fmt.Errorf("olderThan: %w", err)}
		}
		f.OlderThan = d
	}
	if bulk && f.TenantID == "" && f.State == "" && f.OlderThan == 0 && !f.Stuck && !f.Failed {
		return f, badRequest{errors.New("a bulk action needs a filter: tenant, state, olderThan, stuck or failed")}
	}
	if err := f.Validate(); err != nil {
		return f, badRequest{err}
	}
	return f, nil
}

// auditFilter is the request's filter as the audit log keeps it.
func (b bulkRequest) auditFilter() map[string]any {
	return map[string]any{"tenant": b.TenantID, "state": b.State, "olderThan": b.OlderThan,
		"stuck": b.Stuck, "failed": b.Failed, "limit": b.Limit}
}

// bulkAct is one bulk action: how it finds its calls and what it does to
// each.
type bulkAct struct {
	action     string
	needReason bool
	find       func(context.Context, operations.Filter) ([]operations.Call, error)
	apply      func(c operations.Call, reason string) (any, error)
}

// bulk selects calls by the body's filter and, unless dryRun, applies the
// act to each under one audit entry, written before the first and
// completed with every call touched; it answers with the matches and each
// result.
func (a *adminAPI) bulk(w http.ResponseWriter, r *http.Request, act bulkAct) error {
	var req bulkRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if act.needReason && strings.TrimSpace(req.Reason) == "" {
		return badRequest{errors.New("reason is required")}
	}
	f, err := req.filter(true)
	if err != nil {
		return err
	}
	if err := a.permitFilter(r, f); err != nil {
		return err
	}
	found, err := act.find(r.Context(), f)
	if err != nil {
		return err
	}
	results := []any{}
	if !req.DryRun {
		entry := store.AuditEntry{Action: act.action, Filter: req.auditFilter(), Reason: req.Reason}
		err := a.act(r, entry, func(e *store.AuditEntry) error {
			failed := 0
			for _, c := range found {
				res, err := act.apply(c, req.Reason)
				if err != nil {
					failed++
				}
				e.Calls = append(e.Calls, c.TenantID+"/"+c.ContactID)
				results = append(results, res)
			}
			e.Detail = fmt.Sprintf("%d matched, %d failed", len(found), failed)
			if failed > 0 {
				return fmt.Errorf("%d of %d failed", failed, len(found))
			}
			return nil
		})
		if errors.Is(err, store.ErrAuditUnavailable) {
			return err
		}
		a.log.Info("bulk action on calls", "operator", operatorOf(r).Name, "path", r.URL.Path, "matched", len(found), "tenant_id", f.TenantID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"dryRun": req.DryRun, "matched": a.views(found), "results": results})
	return nil
}

func (a *adminAPI) bulkRetry(w http.ResponseWriter, r *http.Request) error {
	return a.bulk(w, r, bulkAct{action: "bulk-retry", find: a.svc.Find, apply: func(c operations.Call, _ string) (any, error) {
		res, err := a.svc.Retry(r.Context(), c.TenantID, c.ContactID)
		out := retryResult{TenantID: c.TenantID, ContactID: c.ContactID, Action: res.Action, ActivitiesReset: res.ActivitiesReset, RunID: res.RunID}
		if err != nil {
			out.Error = err.Error()
		}
		return out, err
	}})
}

func (a *adminAPI) bulkCancel(w http.ResponseWriter, r *http.Request) error {
	return a.bulk(w, r, bulkAct{action: "bulk-cancel", needReason: true, find: a.svc.Find, apply: func(c operations.Call, reason string) (any, error) {
		res, err := a.svc.Cancel(r.Context(), c.TenantID, c.ContactID, reason)
		out := cancelResult{TenantID: c.TenantID, ContactID: c.ContactID, WorkflowID: res.WorkflowID, RunID: res.RunID}
		if err != nil {
			out.Error = err.Error()
		}
		return out, err
	}})
}

// bulkErase erases the calls Postgres holds that the filter selects
// (operations.FindStored), so that a call whose history has passed
// Temporal's retention is erased too.
func (a *adminAPI) bulkErase(w http.ResponseWriter, r *http.Request) error {
	by := "operator:" + operatorOf(r).Name
	return a.bulk(w, r, bulkAct{action: "bulk-erase", needReason: true, find: a.svc.FindStored, apply: func(c operations.Call, reason string) (any, error) {
		res, err := a.svc.Erase(r.Context(), c.TenantID, c.ContactID, reason, by)
		out := eraseResult{TenantID: c.TenantID, ContactID: c.ContactID, WorkflowID: res.WorkflowID, RunID: res.RunID, Held: res.Held}
		if err != nil {
			out.Error = err.Error()
		}
		return out, err
	}})
}
