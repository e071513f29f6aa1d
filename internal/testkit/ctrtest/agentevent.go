package ctrtest

import (
	"encoding/json"
	"fmt"
	"time"
)

// AgentEventOptions shape one agent event.
type AgentEventOptions struct {
	InstanceARN string
	// UserID is the agent's Connect user ID; Username its login.
	UserID, Username string
	// Type is LOGIN, LOGOUT, STATE_CHANGE or HEART_BEAT.
	Type string
	At   time.Time
	// Status is the agent's status after the event (Available, Offline,
	// or a custom one); StatusType ROUTABLE, CUSTOM or OFFLINE.
	Status, StatusType string
}

// AgentEvent returns one agent event as Amazon Connect streams it to
// Kinesis, on the same stream as contact records when a customer points
// both at it.
func AgentEvent(o AgentEventOptions) []byte {
	agentARN := o.InstanceARN + "/agent/" + o.UserID
	snapshot := map[string]any{
		"AgentStatus": map[string]any{"ARN": o.InstanceARN + "/agent-state/" + o.StatusType, "Name": o.Status, "Type": o.StatusType,
			"StartTimestamp": o.At.UTC().Format("2006-01-02T15:04:05.000Z")},
		"Configuration": map[string]any{
			"Username": o.Username, "FirstName": "Amelia", "LastName": "Jones", "AgentHierarchyGroups": nil,
			"RoutingProfile": map[string]any{"ARN": o.InstanceARN + "/routing-profile/aa11", "Name": "Retail",
				"Concurrency": []map[string]any{{"Channel": "VOICE", "MaximumSlots": 1}}, "DefaultOutboundQueue": map[string]any{
					"ARN": o.InstanceARN + "/queue/" + QueueID, "Name": "RetailBanking", "Channels": []string{"VOICE"}}},
		},
		"Contacts": []any{},
	}
	ev := map[string]any{
		"AWSAccountId": "111122223333", "AgentARN": agentARN, "EventId": fmt.Sprintf("%s-%s-%d", o.UserID, o.Type, o.At.UnixMilli()),
		"EventTimestamp": o.At.UTC().Format("2006-01-02T15:04:05.000Z"), "EventType": o.Type, "InstanceARN": o.InstanceARN,
		"Version": "2019-05-25", "CurrentAgentSnapshot": snapshot, "PreviousAgentSnapshot": nil,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}
