package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
)

func TestAdminOperators(t *testing.T) {
	p := startPipeline(t)
	ops := store.NewOperators(p.pool)
	reader, err := ops.Create(t.Context(), store.NewOperator{Name: "rita", Roles: []store.Role{store.RoleRead}})
	if err != nil {
		t.Fatal(err)
	}
	operator, err := ops.Create(t.Context(), store.NewOperator{Name: "oscar", Roles: []store.Role{store.RoleOperate}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)
	p.send(p.ctr("c-op", t0, p.tenant.RecordingBuckets[0]+"/never/c-op.wav"))
	p.waitState("c-op", conversation.WaitingRecording, time.Minute)
	base := "/v1/calls/" + p.tenant.ID + "/c-op"

	t.Run("a read operator lists and shows calls but may not retry or cancel", func(t *testing.T) {
		if status, body, _ := p.adminCall(t, "GET", base, reader, ""); status != http.StatusOK {
			t.Fatalf("show: %d %s", status, body)
		}
		for _, path := range []string{base + "/retry", base + "/cancel", "/v1/calls/retry", "/v1/calls/cancel"} {
			status, body, _ := p.adminCall(t, "POST", path, reader, `{"reason":"x","tenant":"`+p.tenant.ID+`"}`)
			if status != http.StatusForbidden || !strings.Contains(string(body), "operate") {
				t.Errorf("POST %s as reader: %d %s", path, status, body)
			}
		}
	})

	t.Run("every input is checked: malformed tenants, states, limits and IDs are 400 with a JSON error", func(t *testing.T) {
		for _, q := range []string{
			"tenant=" + url.QueryEscape(`x' OR TenantId != 'x`),
			"tenant=" + url.QueryEscape(`x\' OR 1=1`),
			"state=bogus",
			"limit=5000",
			"limit=-1",
			"olderThan=forever",
		} {
			status, body, _ := p.adminCall(t, "GET", "/v1/calls?"+q, reader, "")
			if status != http.StatusBadRequest || !strings.HasPrefix(string(body), `{"error":`) {
				t.Errorf("GET /v1/calls?%s: %d %s", q, status, body)
			}
		}
		for _, path := range []string{"/v1/calls/" + url.PathEscape("bad'tenant") + "/c-op", "/v1/calls/" + p.tenant.ID + "/" + url.PathEscape("../c-op")} {
			if status, body, _ := p.adminCall(t, "GET", path, reader, ""); status != http.StatusBadRequest {
				t.Errorf("GET %s: %d %s", path, status, body)
			}
		}
		status, body, _ := p.adminCall(t, "POST", "/v1/calls/cancel", operator, `{"tenant":"x' OR 1=1","reason":"wipe"}`)
		if status != http.StatusBadRequest {
			t.Errorf("a bulk cancel with a crafted tenant: %d %s", status, body)
		}
		if c := p.waitState("c-op", conversation.WaitingRecording, time.Second); c.State != conversation.WaitingRecording {
			t.Fatal("a refused request changed the call")
		}
	})

	t.Run("an operate operator cancels, and the audit log says who, what, why and how it went", func(t *testing.T) {
		if status, body, _ := p.adminCall(t, "POST", base+"/cancel", operator, `{"reason":"customer asked"}`); status != http.StatusAccepted {
			t.Fatalf("cancel: %d %s", status, body)
		}
		p.waitState("c-op", conversation.Cancelled, time.Minute)
		entries, err := store.NewAudit(p.pool).List(t.Context(), store.AuditFilter{Operator: "oscar"})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit entries: %+v, %v", entries, err)
		}
		e := entries[0]
		if e.Action != "cancel" || e.Target != p.tenant.ID+"/c-op" || e.Reason != "customer asked" || e.Outcome != "ok" {
			t.Fatalf("audit entry %+v", e)
		}
	})

	t.Run("a failed action is audited with its error", func(t *testing.T) {
		status, _, _ := p.adminCall(t, "POST", "/v1/calls/"+p.tenant.ID+"/nobody/retry", operator, "")
		if status != http.StatusNotFound {
			t.Fatalf("retry of an unknown call: %d", status)
		}
		entries, err := store.NewAudit(p.pool).List(t.Context(), store.AuditFilter{Operator: "oscar", Limit: 1})
		if err != nil || len(entries) != 1 || entries[0].Action != "retry" || entries[0].Outcome != "error" || !strings.Contains(entries[0].Detail, "no such conversation") {
			t.Fatalf("audit entries: %+v, %v", entries, err)
		}
	})

	t.Run("a revoked token is refused from then on", func(t *testing.T) {
		if err := ops.Revoke(t.Context(), "rita"); err != nil {
			t.Fatal(err)
		}
		if status, _, _ := p.adminCall(t, "GET", base, reader, ""); status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d", status)
		}
	})

	t.Run("tokens are stored as hashes only", func(t *testing.T) {
		var n int
		if err := p.pool.QueryRow(t.Context(), `SELECT count(*) FROM operators WHERE token_sha256 IN ($1, $2)`, reader, operator).Scan(&n); err != nil || n != 0 {
			t.Fatalf("a plaintext token is stored (%d, %v)", n, err)
		}
	})
}
