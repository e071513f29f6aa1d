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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/operations"
)

// adminAPI serves operators' actions on conversations over HTTP, behind
// per-operator bearer tokens, on a listener of its own (WORKER_ADMIN_ADDR).
// It does what `ingestctl calls` does, through the same operations.Service.
// Each route needs a role (read, operate, erase or raw), an operator limited
// to tenants is refused every other tenant's calls, and every act is written
// to the audit log before it runs (it does not run when that fails) and
// completed with its outcome; refusals (401, 403, 409) are logged and
// counted. Its OpenAPI description is docs/admin-api.openapi.json.
type adminAPI struct {
	svc        *operations.Service
	operators  *store.Operators
	audit      *store.Audit
	quarantine *store.Quarantine
	// bootstrapToken, unless empty, is accepted as the operator
	// "bootstrap" with every role (WORKER_ADMIN_TOKEN): for local use and
	// for the first operator's token. Its acts are audited like any other.
	bootstrapToken string
	// refused counts refused requests by status (worker_admin_refused_total).
	refused *prometheus.CounterVec
	log     *slog.Logger
}

// newRefusedCounter returns the series adminAPI.refused counts in.
func newRefusedCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "worker_admin_refused_total",
		Help: "Admin API requests refused: 401 (no valid token), 403 (a role or tenant the operator lacks), 409 (an erased contact, or nothing to do).",
	}, []string{"status"})
}

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
		{"POST", "/v1/calls/{tenant}/{contactId}/erase", store.RoleErase, a.erase},
		{"POST", "/v1/calls/erase", store.RoleErase, a.bulkErase},
		{"GET", "/v1/rejected", store.RoleRaw, a.rejected},
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
		return store.Operator{Name: store.BootstrapOperator, Roles: store.Roles()}, nil
	}
	return a.operators.Verify(r.Context(), got)
}

// forbidden is an operator's request for a role or a tenant it lacks.
type forbidden struct{ error }

// authorized checks the bearer token, the operator's role and, where the
// path names one, its tenant; then runs h and maps its error to a status.
func (a *adminAPI) authorized(role store.Role, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, err := a.authenticate(r)
		switch {
		case errors.Is(err, store.ErrNotFound):
			w.Header().Set("WWW-Authenticate", `Bearer realm="connect-ingest admin"`)
			a.refuse(w, r, http.StatusUnauthorized, "a valid bearer token is required")
			return
		case err != nil:
			a.log.Error("operator lookup failed", "error", err)
			writeError(w, http.StatusServiceUnavailable, "operator lookup unavailable, retry later")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), operatorKey{}, op))
		if err := a.permit(op, role, r.PathValue("tenant")); err != nil {
			a.refuseAudited(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			status := statusOf(err)
			switch {
			case status >= 500:
				a.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "error", err)
			case status == http.StatusForbidden:
				a.refuseAudited(w, r, err)
				return
			case status == http.StatusConflict:
				a.refuse(w, r, status, err.Error())
				return
			}
			writeError(w, status, err.Error())
		}
	})
}

// permit says why op may not take a role's act on tenantID's calls (an
// empty tenantID names none), or nil.
func (a *adminAPI) permit(op store.Operator, role store.Role, tenantID string) error {
	if !op.Can(role) {
		return forbidden{fmt.Errorf("operator %s has the roles %v; this needs %s", op.Name, op.Roles, role)}
	}
	if tenantID != "" && !op.Covers(tenantID) {
		return forbidden{fmt.Errorf("operator %s may not act on tenant %.80q", op.Name, tenantID)}
	}
	return nil
}

// permitFilter refuses a listing or bulk act of an operator limited to
// tenants unless its filter names one of them.
func (a *adminAPI) permitFilter(r *http.Request, f operations.Filter) error {
	op := operatorOf(r)
	if op.Scoped() && f.TenantID == "" {
		return forbidden{fmt.Errorf("operator %s is limited to tenants %v: name one (tenant)", op.Name, op.Tenants)}
	}
	return a.permit(op, store.RoleRead, f.TenantID)
}

// refuse answers a refused request, and logs and counts it.
func (a *adminAPI) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	a.refused.WithLabelValues(strconv.Itoa(status)).Inc()
	a.log.Warn("admin request refused", "status", status, "method", r.Method, "path", r.URL.Path,
		"operator", operatorOf(r).Name, "reason", msg)
	writeError(w, status, msg)
}

// refuseAudited answers 403 to an authenticated operator, and writes the
// attempt to the audit log as refused.
func (a *adminAPI) refuseAudited(w http.ResponseWriter, r *http.Request, err error) {
	e := store.AuditEntry{Operator: operatorOf(r).Name, Action: r.Method + " " + r.URL.Path, Outcome: store.OutcomeRefused,
		Detail: err.Error()}
	if tenant, contact := r.PathValue("tenant"), r.PathValue("contactId"); tenant != "" {
		e.Target = tenant + "/" + contact
	}
	if _, werr := a.audit.Begin(context.WithoutCancel(r.Context()), e); werr != nil {
		a.log.Error("refusal not audited", "operator", e.Operator, "error", werr)
	}
	a.refuse(w, r, http.StatusForbidden, err.Error())
}

// act runs an operator's act under an audit entry written before it (see
// store.Audit.Act); an act refused for an erased contact is recorded as
// refused.
func (a *adminAPI) act(r *http.Request, e store.AuditEntry, do func(*store.AuditEntry) error) error {
	e.Operator = operatorOf(r).Name
	return a.audit.Act(r.Context(), e, func(e *store.AuditEntry) error {
		err := do(e)
		if errors.Is(err, operations.ErrErased) {
			return store.Refused(err)
		}
		return err
	})
}

// badRequest marks an error as the client's.
type badRequest struct{ error }

func statusOf(err error) int {
	var br badRequest
	var fb forbidden
	switch {
	case errors.As(err, &br), errors.Is(err, operations.ErrInvalid):
		return http.StatusBadRequest
	case errors.As(err, &fb):
		return http.StatusForbidden
	case errors.Is(err, operations.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, operations.ErrErased), errors.Is(err, operations.ErrNothingToRetry), errors.Is(err, operations.ErrNotRunning):
		return http.StatusConflict
	case errors.Is(err, store.ErrAuditUnavailable):
		return http.StatusServiceUnavailable
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

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest{fmt.Errorf("request body: %w", err)}
	}
	return nil
}
