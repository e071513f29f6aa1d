package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
)

// operator creates an operator and returns its token.
func (p *pipeline) operator(t *testing.T, name string, tenants []string, roles ...store.Role) string {
	t.Helper()
	token, err := store.NewOperators(p.pool).Create(t.Context(), store.NewOperator{Name: name, Roles: roles, Tenants: tenants})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// lastAudit is the operator's newest audit entry.
func (p *pipeline) lastAudit(t *testing.T, operator string) store.AuditEntry {
	t.Helper()
	got, err := store.NewAudit(p.pool).List(t.Context(), store.AuditFilter{Operator: operator, Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("audit of %s: %+v, %v", operator, got, err)
	}
	return got[0]
}

// refusedCount reads worker_admin_refused_total{status} from the worker's
// metrics.
func (p *pipeline) refusedCount(t *testing.T, status string) string {
	t.Helper()
	resp, err := http.Get("http://" + p.health + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, `worker_admin_refused_total{status="`+status+`"} `); ok {
			return strings.TrimSpace(v)
		}
	}
	return "0"
}

func TestAdminRoles(t *testing.T) {
	p := startPipeline(t)
	t0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	p.send(p.ctr("c-role", t0, ""))
	p.waitState("c-role", conversation.NoRecording, time.Minute)
	base := "/v1/calls/" + p.tenant.ID + "/c-role"
	operate := p.operator(t, "olive", nil, store.RoleOperate)
	eraser := p.operator(t, "eric", nil, store.RoleErase)
	scoped := p.operator(t, "sam", []string{"other-tenant"}, store.RoleOperate, store.RoleErase, store.RoleRaw)
	raw := p.operator(t, "rae", []string{p.tenant.ID}, store.RoleRaw)

	t.Run("operate may not erase: 403, logged, counted and audited as refused", func(t *testing.T) {
		before := p.refusedCount(t, "403")
		status, body, _ := p.adminCall(t, "POST", base+"/erase", operate, `{"reason":"x"}`)
		if status != http.StatusForbidden || !strings.Contains(string(body), "erase") {
			t.Fatalf("erase as operate: %d %s", status, body)
		}
		if e := p.lastAudit(t, "olive"); e.Outcome != store.OutcomeRefused || e.Target != p.tenant.ID+"/c-role" {
			t.Fatalf("audit %+v", e)
		}
		if after := p.refusedCount(t, "403"); after == before {
			t.Fatalf("worker_admin_refused_total{status=403} stayed %s", after)
		}
		p.waitState("c-role", conversation.NoRecording, time.Second)
	})

	t.Run("an operator limited to another tenant is refused this tenant's calls, listings and bulk acts", func(t *testing.T) {
		for _, req := range []struct{ method, path, body string }{
			{"GET", base, ""},
			{"POST", base + "/retry", ""},
			{"POST", base + "/erase", `{"reason":"x"}`},
			{"GET", "/v1/calls", ""},
			{"GET", "/v1/calls?tenant=" + p.tenant.ID, ""},
			{"POST", "/v1/calls/erase", `{"tenant":"` + p.tenant.ID + `","reason":"x"}`},
			{"POST", "/v1/calls/erase", `{"state":"no_recording","reason":"x"}`},
			{"GET", "/v1/rejected?tenant=" + p.tenant.ID, ""},
		} {
			if status, body, _ := p.adminCall(t, req.method, req.path, scoped, req.body); status != http.StatusForbidden {
				t.Errorf("%s %s as sam: %d %s", req.method, req.path, status, body)
			}
		}
		if status, body, _ := p.adminCall(t, "GET", "/v1/calls?tenant=other-tenant", scoped, ""); status != http.StatusOK {
			t.Fatalf("its own tenant: %d %s", status, body)
		}
		p.waitState("c-role", conversation.NoRecording, time.Second)
	})

	t.Run("raw bytes need the raw role, and each read is audited with the records read", func(t *testing.T) {
		p.send([]byte(`{"not":"a ctr"}`))
		if status, body, _ := p.adminCall(t, "GET", "/v1/rejected?tenant="+p.tenant.ID, operate, ""); status != http.StatusForbidden {
			t.Fatalf("raw read as operate: %d %s", status, body)
		}
		status, body, _ := p.adminCall(t, "GET", "/v1/rejected?tenant="+p.tenant.ID, raw, "")
		var got struct{ Records []operations.RejectedView }
		if status != http.StatusOK || json.Unmarshal(body, &got) != nil || len(got.Records) != 1 ||
			!strings.Contains(string(got.Records[0].RawData), "a ctr") {
			t.Fatalf("raw read: %d %s", status, body)
		}
		e := p.lastAudit(t, "rae")
		if e.Action != "read-raw" || e.Outcome != store.OutcomeOK || len(e.Calls) != 1 || e.CompletedAt == nil {
			t.Fatalf("audit %+v", e)
		}
	})

	t.Run("erase takes the contact's dead letters too; then retry and cancel are 409 and nothing comes back", func(t *testing.T) {
		dead := p.ingester.Queue + ".dead"
		err := p.ingester.Publisher.PublishSeq(t.Context(), dead, slices.Values([]queue.Message{
			{ID: p.tenant.ID + "/c-role/2026-11-24T14:00:00Z", Type: "ctr", Body: []byte(`{"ctr":{}}`)},
			{ID: p.tenant.ID + "/c-bystander/2026-11-24T14:00:00Z", Type: "ctr", Body: []byte(`{"ctr":{}}`)},
		}))
		if err != nil {
			t.Fatal(err)
		}
		if status, body, _ := p.adminCall(t, "POST", base+"/erase", eraser, `{"reason":"subject request"}`); status != http.StatusAccepted {
			t.Fatalf("erase: %d %s", status, body)
		}
		waitErased(t, p, "c-role")
		if left := testenv.Drain(t, dead, 2); len(left) != 1 || !strings.Contains(left[0].MessageId, "c-bystander") {
			t.Fatalf("dead letters left: %d", len(left))
		}
		for _, action := range []string{"retry", "cancel"} {
			status, body, _ := p.adminCall(t, "POST", base+"/"+action, operate, `{"reason":"x"}`)
			if status != http.StatusConflict || !strings.Contains(string(body), "erased") {
				t.Fatalf("%s after erasure: %d %s", action, status, body)
			}
			if e := p.lastAudit(t, "olive"); e.Action != action || e.Outcome != store.OutcomeRefused {
				t.Fatalf("audit %+v", e)
			}
		}
		p.send(p.ctr("c-role", t0.Add(time.Hour), ""))
		assertNotStored(t, p, "c-role")
	})

	t.Run("erasing a contact that has not arrived writes its tombstone, and its CTR is refused when it comes", func(t *testing.T) {
		status, body, _ := p.adminCall(t, "POST", "/v1/calls/"+p.tenant.ID+"/c-later/erase", eraser, `{"reason":"before it came"}`)
		var res eraseResult
		if status != http.StatusAccepted || json.Unmarshal(body, &res) != nil || res.Held {
			t.Fatalf("erase: %d %s", status, body)
		}
		if _, err := store.NewErasures(p.pool).Get(t.Context(), p.tenant.ID, "c-later"); err != nil {
			t.Fatal(err)
		}
		p.send(p.ctr("c-later", t0, ""))
		assertNotStored(t, p, "c-later")
	})

	t.Run("a bulk erasure takes its calls from Postgres, even one whose history Temporal no longer has", func(t *testing.T) {
		p.send(p.ctr("c-old", t0, ""))
		p.waitState("c-old", conversation.NoRecording, time.Minute)
		testenv.ForgetWorkflow(t, testenv.Temporal(t), workflows.ConversationWorkflowID(p.tenant.ID, "c-old"))
		status, body, _ := p.adminCall(t, "POST", "/v1/calls/erase", eraser,
			`{"tenant":"`+p.tenant.ID+`","state":"no_recording","olderThan":"1h","reason":"retention"}`)
		if status != http.StatusOK || !strings.Contains(string(body), "c-old") {
			t.Fatalf("bulk erase: %d %s", status, body)
		}
		waitErased(t, p, "c-old")
		e := p.lastAudit(t, "eric")
		if e.Action != "bulk-erase" || len(e.Calls) != 1 || e.Calls[0] != p.tenant.ID+"/c-old" || e.Outcome != store.OutcomeOK {
			t.Fatalf("audit %+v", e)
		}
	})
}

// waitErased waits until the contact's erasure has finished.
func waitErased(t *testing.T, p *pipeline, contactID string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		e, err := store.NewErasures(p.pool).Get(t.Context(), p.tenant.ID, contactID)
		if err == nil && e.ErasedAt != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not erased within a minute", contactID)
}

// assertNotStored checks that a CTR of an erased contact, sent a moment
// ago, was refused: counted on its tombstone, and no row.
func assertNotStored(t *testing.T, p *pipeline, contactID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, err := store.NewErasures(p.pool).Get(t.Context(), p.tenant.ID, contactID)
		if err != nil {
			t.Fatal(err)
		}
		if e.RefusedCount > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CTR of erased %s was not refused", contactID)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, _, err := p.convs.Get(t.Context(), p.tenant.ID, contactID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("erased %s has a row again (%v)", contactID, err)
	}
}
