package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/operations"
)

// maxRejectedLimit bounds one listing of raw records.
const maxRejectedLimit = 100

// rejected lists a tenant's quarantined records with their raw bytes. It
// needs the raw role, names one tenant, and is audited as a read of raw CTR
// bytes before anything is read.
func (a *adminAPI) rejected(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.RejectedFilter{TenantID: q.Get("tenant"), Reason: q.Get("reason"), Limit: 20}
	if !tenant.ValidID(f.TenantID) {
		return badRequest{errors.New("tenant is required, and must be a tenant ID")}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRejectedLimit {
			return badRequest{fmt.Errorf("limit must be between 1 and %d", maxRejectedLimit)}
		}
		f.Limit = n
	}
	if err := a.permit(operatorOf(r), store.RoleRaw, f.TenantID); err != nil {
		return err
	}
	var recs []store.Rejected
	entry := store.AuditEntry{Action: "read-raw", Target: f.TenantID,
		Filter: map[string]any{"source": "rejected", "reason": f.Reason, "limit": f.Limit}}
	err := a.act(r, entry, func(e *store.AuditEntry) error {
		var err error
		recs, err = a.quarantine.List(r.Context(), f)
		e.Detail = fmt.Sprintf("%d records read", len(recs))
		for _, rec := range recs {
			e.Calls = append(e.Calls, fmt.Sprintf("rejected:%d", rec.ID))
		}
		return err
	})
	if err != nil {
		return err
	}
	out := make([]operations.RejectedView, len(recs))
	for i, rec := range recs {
		out[i] = operations.NewRejectedView(rec)
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": out})
	return nil
}
