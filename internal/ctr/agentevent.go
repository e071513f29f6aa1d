package ctr

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// The agent event types Amazon Connect streams, on the same Kinesis stream
// as contact records when a customer points both at it.
const (
	AgentLogin       = "LOGIN"
	AgentLogout      = "LOGOUT"
	AgentStateChange = "STATE_CHANGE"
	AgentHeartBeat   = "HEART_BEAT"
)

// AgentEvent is what connect-ingest keeps of an agent event: who, what,
// when, and the agent's status after it.
type AgentEvent struct {
	EventType   string
	InstanceARN string
	// UserID is the agent's Connect user ID, the end of its ARN.
	UserID    string
	Timestamp time.Time
	// Status and StatusType are the agent's status after the event (for
	// example "Available", ROUTABLE); empty when the snapshot has none.
	Status     string
	StatusType string
}

// maxStatusName bounds the status name kept; Connect's own limit is 127.
const maxStatusName = 127

// agentEventJSON is the part of an agent event read.
type agentEventJSON struct {
	EventType      *string `json:"EventType"`
	EventTimestamp *string `json:"EventTimestamp"`
	AgentARN       *string `json:"AgentARN"`
	InstanceARN    *string `json:"InstanceARN"`
	Current        *struct {
		AgentStatus *struct {
			Name *string `json:"Name"`
			Type *string `json:"Type"`
		} `json:"AgentStatus"`
	} `json:"CurrentAgentSnapshot"`
}

// AsAgentEvent reads a record Identify refused for having no ContactId as
// an agent event: a JSON object with a known EventType, an agent ARN of an
// instance and a timestamp. It reports false for anything else, which is
// quarantined as before.
func AsAgentEvent(raw []byte) (AgentEvent, bool) {
	var j agentEventJSON
	if err := json.Unmarshal(raw, &j); err != nil || j.EventType == nil || j.AgentARN == nil || j.EventTimestamp == nil {
		return AgentEvent{}, false
	}
	switch *j.EventType {
	case AgentLogin, AgentLogout, AgentStateChange, AgentHeartBeat:
	default:
		return AgentEvent{}, false
	}
	instance, user, ok := strings.Cut(*j.AgentARN, "/agent/")
	if !ok || !contactIDPattern.MatchString(user) || !strings.Contains(instance, ":instance/") {
		return AgentEvent{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, *j.EventTimestamp)
	if err != nil {
		return AgentEvent{}, false
	}
	ev := AgentEvent{EventType: *j.EventType, UserID: user, Timestamp: ts.UTC(), InstanceARN: instance}
	if j.InstanceARN != nil {
		ev.InstanceARN = *j.InstanceARN
	}
	if j.Current != nil && j.Current.AgentStatus != nil {
		if s := j.Current.AgentStatus; s.Name != nil {
			ev.Status = bounded(*s.Name, maxStatusName)
		}
		if s := j.Current.AgentStatus; s.Type != nil {
			ev.StatusType = bounded(*s.Type, 32)
		}
	}
	return ev, true
}

// bounded cuts s to at most n bytes on a rune boundary, and drops what
// Postgres text cannot hold.
func bounded(s string, n int) string {
	s = strings.ReplaceAll(s, "\x00", "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
