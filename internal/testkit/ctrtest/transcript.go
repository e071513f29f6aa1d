package ctrtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// TranscriptKey is where Amazon Connect stores a chat's transcript in the
// instance's bucket:
// connect/<alias>/ChatTranscripts/YYYY/MM/DD/<ContactId>_<YYYYMMDD>T<HH:MM>_UTC.json
func TranscriptKey(alias, contactID string, start time.Time) string {
	s := start.UTC()
	return fmt.Sprintf("connect/%s/ChatTranscripts/%s/%s_%sT%s_UTC.json", alias, s.Format("2006/01/02"), contactID,
		s.Format("20060102"), s.Format("15:04"))
}

// Transcript returns a chat transcript as Amazon Connect writes it to S3:
// the participants joining, a few messages each way, and the chat ending.
// Messages differ with the contact.
func Transcript(instanceARN, contactID, agentName string, start time.Time) []byte {
	account, instanceID := "111122223333", instanceARN[strings.LastIndex(instanceARN, "/")+1:]
	if parts := strings.Split(instanceARN, ":"); len(parts) > 4 {
		account = parts[4]
	}
	customer, agent := "p-cust-"+contactID[:8], "p-agent-"+contactID[:8]
	at := func(s int) string {
		return start.Add(time.Duration(s) * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	item := func(n, s int, typ, contentType, participant, role, name, content string) map[string]any {
		m := map[string]any{"AbsoluteTime": at(s), "ContentType": contentType, "Id": fmt.Sprintf("%s-%02d", contactID, n),
			"Type": typ, "ParticipantId": participant, "DisplayName": name, "ParticipantRole": role}
		if content != "" {
			m["Content"] = content
		}
		return m
	}
	const joined, ended = "application/vnd.amazonaws.connect.event.participant.joined", "application/vnd.amazonaws.connect.event.chat.ended"
	t := map[string]any{
		"Version": "2019-08-26", "AWSAccountId": account, "InstanceId": instanceID,
		"InitialContactId": contactID, "ContactId": contactID,
		"Participants": []map[string]string{{"ParticipantId": customer}, {"ParticipantId": agent}},
		"Transcript": []map[string]any{
			item(1, 0, "EVENT", joined, customer, "CUSTOMER", "Customer", ""),
			item(2, 2, "MESSAGE", "text/plain", customer, "CUSTOMER", "Customer", "Hello, I need help with order "+contactID[:8]+"."),
			item(3, 40, "EVENT", joined, agent, "AGENT", agentName, ""),
			item(4, 45, "MESSAGE", "text/plain", agent, "AGENT", agentName, "Hi, thanks for waiting. Let me look that up."),
			item(5, 90, "MESSAGE", "text/markdown", agent, "AGENT", agentName, "Your order ships **tomorrow**."),
			item(6, 101, "MESSAGE", "text/plain", customer, "CUSTOMER", "Customer", "Great, thank you!"),
			item(7, 110, "EVENT", ended, "", "SYSTEM", "SYSTEM_MESSAGE", ""),
		},
	}
	b, _ := json.Marshal(t)
	return b
}
