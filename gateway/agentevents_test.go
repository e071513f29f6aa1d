package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// TestFirehoseAgentEvents sends a stream that carries agent events beside
// contact records, as one Kinesis stream does when a customer points both
// at it.
func TestFirehoseAgentEvents(t *testing.T) {
	f := newFixture(t)
	agents := store.NewAgents(f.pool)
	const user = "7f2436de-4c47-4ebb-83eb-36de4c473ebb"
	if err := agents.Upsert(t.Context(), store.Agent{TenantID: "acme", UserID: user, Username: "jdoe", Tags: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	event := func(typ string, at time.Time, status, statusType string) []byte {
		return ctrtest.AgentEvent(ctrtest.AgentEventOptions{InstanceARN: testInstanceARN, UserID: user, Username: "jdoe", Type: typ,
			At: at, Status: status, StatusType: statusType})
	}
	records := append(ctrs(7, 2),
		event(ctr.AgentLogin, t0, "Available", "ROUTABLE"),
		event(ctr.AgentStateChange, t0.Add(30*time.Minute), "Lunch", "CUSTOM"),
		event(ctr.AgentHeartBeat, t0.Add(32*time.Minute), "Lunch", "CUSTOM"),
		// An older event, delivered late, changes nothing.
		event(ctr.AgentStateChange, t0.Add(10*time.Minute), "Training", "CUSTOM"),
		// Another instance's agent event is refused as a CTR of it is.
		ctrtest.AgentEvent(ctrtest.AgentEventOptions{InstanceARN: "arn:aws:connect:eu-west-2:999999999999:instance/other", UserID: user,
			Type: ctr.AgentLogout, At: t0.Add(time.Hour), Status: "Offline", StatusType: "OFFLINE"}),
		// An agent the sync has not stored yet: counted, nothing kept.
		ctrtest.AgentEvent(ctrtest.AgentEventOptions{InstanceARN: testInstanceARN, UserID: "00000000-0000-4000-8000-00000000beef",
			Type: ctr.AgentLogin, At: t0, Status: "Available", StatusType: "ROUTABLE"}),
	)
	d := delivery{requestID: "req-agents", key: testKey, body: firehose.EncodeRequest("req-agents", 1, records)}

	t.Run("agent events are answered 200, neither published nor quarantined one by one", func(t *testing.T) {
		checkAnswer(t, f.post(d), http.StatusOK, "req-agents")
		if got := testenv.Drain(t, f.cfg.CTRQueue, 3); len(got) != 2 {
			t.Fatalf("%d messages published, want the 2 contact records", len(got))
		}
		recs, err := store.NewQuarantine(f.pool).List(t.Context(), store.RejectedFilter{TenantID: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Reason != string(ctr.ReasonInstanceMismatch) || recs[0].RecordIndex != 6 {
			t.Fatalf("quarantined %+v, want only the other instance's event", recs)
		}
	})

	t.Run("the agent's row keeps its last login and its latest status", func(t *testing.T) {
		list, err := agents.List(t.Context(), "acme")
		if err != nil || len(list) != 1 {
			t.Fatalf("agents %+v, %v", list, err)
		}
		a := list[0]
		if a.LastLoginAt == nil || !a.LastLoginAt.Equal(t0) || a.LastLogoutAt != nil {
			t.Errorf("login %v, logout %v", a.LastLoginAt, a.LastLogoutAt)
		}
		if a.Status != "Lunch" || a.StatusType != "CUSTOM" || a.StatusAt == nil || !a.StatusAt.Equal(t0.Add(32*time.Minute)) {
			t.Errorf("status %q %q since %v, want Lunch since the heartbeat", a.Status, a.StatusType, a.StatusAt)
		}
	})

	t.Run("Firehose retrying the batch changes nothing", func(t *testing.T) {
		checkAnswer(t, f.post(d), http.StatusOK, "req-agents")
		testenv.Drain(t, f.cfg.CTRQueue, 3)
		list, _ := agents.List(t.Context(), "acme")
		if a := list[0]; a.Status != "Lunch" || !a.StatusAt.Equal(t0.Add(32*time.Minute)) {
			t.Errorf("after a retry: %q since %v", a.Status, a.StatusAt)
		}
	})

	t.Run("the metrics count agent events by tenant and type", func(t *testing.T) {
		rec := httptest.NewRecorder()
		f.gw.admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for _, want := range []string{
			`gateway_agent_events_total{event_type="LOGIN",tenant_id="acme"} 4`,
			`gateway_agent_events_total{event_type="STATE_CHANGE",tenant_id="acme"} 4`,
			`gateway_agent_events_total{event_type="HEART_BEAT",tenant_id="acme"} 2`,
		} {
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
}
