package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
)

// adminAPI serves operators' actions on conversations over HTTP, behind
// per-operator bearer tokens, on a listener of its own (WORKER_ADMIN_ADDR).
// It does what `ingestctl calls` does, through the same operations.Service,
// and writes every retry and cancel to the audit log; its OpenAPI
// description is docs/admin-api.openapi.json.
type adminAPI struct {
	svc       *operations.Service
	operators *store.Operators
	audit     *store.Audit
	// bootstrapToken, unless empty, is accepted as the operator
	// "bootstrap" with the operate role (WORKER_ADMIN_TOKEN): for local use
	// and for the first operator's token.
	bootstrapToken string
	log            *slog.Logger
}

// bootstrapOperator is the name the bootstrap token acts under.
const bootstrapOperator = "bootstrap"

// route is one operation of the admin API and the role it needs.
type route struct {
	method, pattern string
	role            store.Role
	handle          func(http.ResponseWriter, *http.Request) error
}

func (a *adminAPI) routes() []route {
	return []route{
		{"GET", "/v1/calls", store.RoleRead, a.list},
		{"GET", "/v1/calls/{tenant}/{contactId}", store.RoleRead, a.show},
		{"POST", "/v1/calls/{tenant}/{contactId}/retry", store.RoleOperate, a.retry},
		{"POST", "/v1/calls/{tenant}/{contactId}/cancel", store.RoleOperate, a.cancel},
		{"POST", "/v1/calls/retry", store.RoleOperate, a.bulkRetry},
		{"POST", "/v1/calls/cancel", store.RoleOperate, a.bulkCancel},
		{"POST", "/v1/calls/{tenant}/{contactId}/erase", store.RoleOperate, a.erase},
		{"POST", "/v1/calls/erase", store.RoleOperate, a.bulkErase},
	}
}

// handler returns the API with every route behind the operators' tokens.
func (a *adminAPI) handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range a.routes() {
		mux.Handle(r.method+" "+r.pattern, a.authorized(r.role, r.handle))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such route")
	})
	return mux
}

// operatorKey carries the authenticated operator in a request's context.
type operatorKey struct{}

// operatorOf is the operator a request was authenticated as.
func operatorOf(r *http.Request) store.Operator {
	o, _ := r.Context().Value(operatorKey{}).(store.Operator)
	return o
}

// authenticate finds the operator whose bearer token the request carries.
func (a *adminAPI) authenticate(r *http.Request) (store.Operator, error) {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" || len(got) > 256 {
		return store.Operator{}, store.ErrNotFound
	}
	if a.bootstrapToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(a.bootstrapToken)) == 1 {
		return store.Operator{Name: bootstrapOperator, Role: store.RoleOperate}, nil
	}
	return a.operators.Verify(r.Context(), got)
}

// authorized checks the bearer token and the operator's role, then runs h
// and maps its error to a status.
func (a *adminAPI) authorized(role store.Role, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, err := a.authenticate(r)
		switch {
		case errors.Is(err, store.ErrNotFound):
			w.Header().Set("WWW-Authenticate", `Bearer realm="connect-ingest admin"`)
			writeError(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		case err != nil:
			a.log.Error("operator lookup failed", "error", err)
			writeError(w, http.StatusServiceUnavailable, "operator lookup unavailable, retry later")
			return
		case role == store.RoleOperate && op.Role != store.RoleOperate:
			writeError(w, http.StatusForbidden, "operator "+op.Name+" has the read role; this needs operate")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), operatorKey{}, op))
		if err := h(w, r); err != nil {
			status := statusOf(err)
			if status >= 500 {
				a.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "error", err)
			}
			writeError(w, status, err.Error())
		}
	})
}

// badRequest marks an error as the client's.
type badRequest struct{ error }

func statusOf(err error) int {
	var br badRequest
	switch {
	case errors.As(err, &br), errors.Is(err, operations.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, operations.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, operations.ErrNothingToRetry), errors.Is(err, operations.ErrNotRunning):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

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
	res, err := a.svc.Retry(r.Context(), tenant, contact)
	a.record(r, store.AuditEntry{Action: "retry", Target: tenant + "/" + contact, Detail: res.Action}, err)
	if err != nil {
		return err
	}
	a.log.Info("call retried", "operator", operatorOf(r).Name, "tenant_id", tenant, "contact_id", contact, "action", res.Action)
	writeJSON(w, http.StatusOK, retryResult{TenantID: tenant, ContactID: contact, Action: res.Action, ActivitiesReset: res.ActivitiesReset, RunID: res.RunID})
	return nil
}

// cancelRequest is the body of a cancel.
type cancelRequest struct {
	Reason string `json:"reason"`
}

// cancelResult is the JSON answer to a cancel.
type cancelResult struct {
	TenantID   string `json:"tenantId"`
	ContactID  string `json:"contactId"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Error      string `json:"error,omitempty"`
}

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest{fmt.Errorf("request body: %w", err)}
	}
	return nil
}

func (a *adminAPI) cancel(w http.ResponseWriter, r *http.Request) error {
	var req cancelRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return badRequest{errors.New("reason is required")}
	}
	tenant, contact := r.PathValue("tenant"), r.PathValue("contactId")
	res, err := a.svc.Cancel(r.Context(), tenant, contact, req.Reason)
	a.record(r, store.AuditEntry{Action: "cancel", Target: tenant + "/" + contact, Reason: req.Reason}, err)
	if err != nil {
		return err
	}
	a.log.Info("call cancelled", "operator", operatorOf(r).Name, "tenant_id", tenant, "contact_id", contact, "workflow_id", res.WorkflowID, "reason", req.Reason)
	writeJSON(w, http.StatusAccepted, cancelResult{TenantID: tenant, ContactID: contact, WorkflowID: res.WorkflowID, RunID: res.RunID})
	return nil
}

// eraseResult is the JSON answer to an erasure: the workflow that erases
// the call, to follow in the Temporal UI or with GET /v1/calls/{tenant}/{contactId}.
type eraseResult struct {
	TenantID   string `json:"tenantId"`
	ContactID  string `json:"contactId"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Error      string `json:"error,omitempty"`
}

func (a *adminAPI) erase(w http.ResponseWriter, r *http.Request) error {
	var req cancelRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return badRequest{errors.New("reason is required")}
	}
	tenant, contact := r.PathValue("tenant"), r.PathValue("contactId")
	op := operatorOf(r).Name
	res, err := a.svc.Erase(r.Context(), tenant, contact, req.Reason, "operator:"+op)
	a.record(r, store.AuditEntry{Action: "erase", Target: tenant + "/" + contact, Reason: req.Reason}, err)
	if err != nil {
		return err
	}
	a.log.Info("call erasure started", "operator", op, "tenant_id", tenant, "contact_id", contact, "workflow_id", res.WorkflowID)
	writeJSON(w, http.StatusAccepted, eraseResult{TenantID: tenant, ContactID: contact, WorkflowID: res.WorkflowID, RunID: res.RunID})
	return nil
}

func (a *adminAPI) bulkErase(w http.ResponseWriter, r *http.Request) error {
	by := "operator:" + operatorOf(r).Name
	return a.bulk(w, r, "bulk-erase", true, func(c operations.Call, reason string) (any, error) {
		res, err := a.svc.Erase(r.Context(), c.TenantID, c.ContactID, reason, by)
		out := eraseResult{TenantID: c.TenantID, ContactID: c.ContactID, WorkflowID: res.WorkflowID, RunID: res.RunID}
		if err != nil {
			out.Error = err.Error()
		}
		return out, err
	})
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

// bulk selects calls by the body's filter and, unless dryRun, applies act
// to each, answering with the matches and each result.
func (a *adminAPI) bulk(w http.ResponseWriter, r *http.Request, action string, needReason bool, act func(operations.Call, string) (any, error)) error {
	var req bulkRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if needReason && strings.TrimSpace(req.Reason) == "" {
		return badRequest{errors.New("reason is required")}
	}
	f, err := req.filter(true)
	if err != nil {
		return err
	}
	found, err := a.svc.Find(r.Context(), f)
	if err != nil {
		return err
	}
	results := []any{}
	if !req.DryRun {
		failed := 0
		for _, c := range found {
			res, err := act(c, req.Reason)
			if err != nil {
				failed++
			}
			results = append(results, res)
		}
		entry := store.AuditEntry{Action: action, Filter: req.auditFilter(), Reason: req.Reason,
			Detail: fmt.Sprintf("%d matched, %d failed", len(found), failed)}
		var outcome error
		if failed > 0 {
			outcome = fmt.Errorf("%d of %d failed", failed, len(found))
		}
		a.record(r, entry, outcome)
		a.log.Info("bulk action on calls", "operator", operatorOf(r).Name, "path", r.URL.Path, "matched", len(found), "tenant_id", f.TenantID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"dryRun": req.DryRun, "matched": a.views(found), "results": results})
	return nil
}

func (a *adminAPI) bulkRetry(w http.ResponseWriter, r *http.Request) error {
	return a.bulk(w, r, "bulk-retry", false, func(c operations.Call, _ string) (any, error) {
		res, err := a.svc.Retry(r.Context(), c.TenantID, c.ContactID)
		out := retryResult{TenantID: c.TenantID, ContactID: c.ContactID, Action: res.Action, ActivitiesReset: res.ActivitiesReset, RunID: res.RunID}
		if err != nil {
			out.Error = err.Error()
		}
		return out, err
	})
}

func (a *adminAPI) bulkCancel(w http.ResponseWriter, r *http.Request) error {
	return a.bulk(w, r, "bulk-cancel", true, func(c operations.Call, reason string) (any, error) {
		res, err := a.svc.Cancel(r.Context(), c.TenantID, c.ContactID, reason)
		out := cancelResult{TenantID: c.TenantID, ContactID: c.ContactID, WorkflowID: res.WorkflowID, RunID: res.RunID}
		if err != nil {
			out.Error = err.Error()
		}
		return out, err
	})
}

// auditFilter is the request's filter as the audit log keeps it.
func (b bulkRequest) auditFilter() map[string]any {
	return map[string]any{"tenant": b.TenantID, "state": b.State, "olderThan": b.OlderThan,
		"stuck": b.Stuck, "failed": b.Failed, "limit": b.Limit}
}

// record writes an action to the audit log with its outcome. An audit entry
// that cannot be written is logged as an error: the action has happened.
func (a *adminAPI) record(r *http.Request, e store.AuditEntry, err error) {
	e.Operator, e.Outcome = operatorOf(r).Name, "ok"
	if err != nil {
		e.Outcome = "error"
		e.Detail = strings.TrimSpace(e.Detail + " " + err.Error())
	}
	if werr := a.audit.Put(context.WithoutCancel(r.Context()), e); werr != nil {
		a.log.Error("audit entry not written", "operator", e.Operator, "action", e.Action, "target", e.Target, "error", werr)
	}
}
