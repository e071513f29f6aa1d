package ctr_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
)

const agentInstance = "arn:aws:connect:eu-west-2:111122223333:instance/i-1"

func TestAsAgentEvent(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 0, 0, 123e6, time.UTC)
	for _, typ := range []string{ctr.AgentLogin, ctr.AgentLogout, ctr.AgentStateChange, ctr.AgentHeartBeat} {
		t.Run("reads a "+typ+" event: the agent, when, and its status after it", func(t *testing.T) {
			raw := ctrtest.AgentEvent(ctrtest.AgentEventOptions{InstanceARN: agentInstance, UserID: "7f2436de-4c47-4ebb-83eb-36de4c473ebb",
				Username: "jdoe", Type: typ, At: at, Status: "Available", StatusType: "ROUTABLE"})
			var re *ctr.RejectError
			if _, err := ctr.Identify(raw); !errors.As(err, &re) || re.Reason != ctr.ReasonMissingContactID {
				t.Fatalf("Identify says %v, want %s: the gateway reads agent events among the records it refuses so", err, ctr.ReasonMissingContactID)
			}
			ev, ok := ctr.AsAgentEvent(raw)
			if !ok {
				t.Fatalf("not read as an agent event: %s", raw)
			}
			want := ctr.AgentEvent{EventType: typ, InstanceARN: agentInstance, UserID: "7f2436de-4c47-4ebb-83eb-36de4c473ebb",
				Timestamp: at, Status: "Available", StatusType: "ROUTABLE"}
			if ev != want {
				t.Errorf("got %+v, want %+v", ev, want)
			}
		})
	}

	t.Run("anything else without a ContactId is not an agent event", func(t *testing.T) {
		for name, raw := range map[string]string{
			"an unknown event type":       `{"EventType":"MAGIC","AgentARN":"` + agentInstance + `/agent/u-1","EventTimestamp":"2026-11-24T09:00:00.000Z"}`,
			"no agent ARN":                `{"EventType":"LOGIN","EventTimestamp":"2026-11-24T09:00:00.000Z"}`,
			"an agent ARN of no instance": `{"EventType":"LOGIN","AgentARN":"arn:aws:iam::1:user/agent/u-1","EventTimestamp":"2026-11-24T09:00:00.000Z"}`,
			"an escaping user ID":         `{"EventType":"LOGIN","AgentARN":"` + agentInstance + `/agent/../x","EventTimestamp":"2026-11-24T09:00:00.000Z"}`,
			"no timestamp":                `{"EventType":"LOGIN","AgentARN":"` + agentInstance + `/agent/u-1"}`,
			"a timestamp of no time":      `{"EventType":"LOGIN","AgentARN":"` + agentInstance + `/agent/u-1","EventTimestamp":"yesterday"}`,
			"an event type not text":      `{"EventType":7,"AgentARN":"` + agentInstance + `/agent/u-1","EventTimestamp":"2026-11-24T09:00:00.000Z"}`,
		} {
			if ev, ok := ctr.AsAgentEvent([]byte(raw)); ok {
				t.Errorf("%s: read as %+v", name, ev)
			}
		}
	})

	t.Run("bounds a status name and drops what Postgres text cannot hold", func(t *testing.T) {
		raw := ctrtest.AgentEvent(ctrtest.AgentEventOptions{InstanceARN: agentInstance, UserID: "u-1", Type: ctr.AgentStateChange, At: at,
			Status: strings.Repeat("é", 300) + "\x00", StatusType: "CUSTOM"})
		ev, ok := ctr.AsAgentEvent(raw)
		if !ok || len(ev.Status) > 127 || strings.Contains(ev.Status, "\x00") || !strings.HasPrefix(ev.Status, "éé") {
			t.Fatalf("status %q (%d bytes)", ev.Status, len(ev.Status))
		}
	})
}
