// Package ctrtest builds realistic Amazon Connect contact records for tests,
// benchmarks and the local Connect stand-in.
package ctrtest

import (
	"encoding/json"
	"fmt"
	"time"
)

// Options shape one sample record.
type Options struct {
	ContactID   string
	InstanceARN string
	LastUpdate  time.Time
	// AgentUsername, when set, puts an agent on the contact.
	AgentUsername string
	// RecordingLocation, when set, adds an AVAILABLE S3 audio recording,
	// or on a CHAT contact its transcript.
	RecordingLocation string
	// Attributes are the contact attributes; Sample pads them so that a
	// record is about 4 KB, as a real voice contact's usually is.
	Attributes map[string]string

	// Channel defaults to VOICE, InitiationMethod to INBOUND.
	Channel          string
	InitiationMethod string
	// Start is when the contact began; zero means six minutes before
	// LastUpdate.
	Start time.Time
	// AgentUserID is the Connect user ID at the end of the agent's ARN;
	// zero derives one from the username.
	AgentUserID string
	// RecordingStatus defaults to AVAILABLE; DELETED takes DeletionReason.
	RecordingStatus string
	DeletionReason  string
	// Transfer links.
	InitialContactID  string
	PreviousContactID string
	NextContactID     string
	DisconnectReason  string
}

// QueueID is the ID of the queue every sample contact went through.
const QueueID = "5a1f0c2e-3b7d-4e8a-9c6f-1d2e3f4a5b6c"

// Sample returns one voice contact record as Connect streams it.
func Sample(o Options) []byte {
	start := o.LastUpdate.Add(-6 * time.Minute).UTC()
	if !o.Start.IsZero() {
		start = o.Start.UTC()
	}
	def := func(v, d string) any {
		if v == "" {
			return d
		}
		return v
	}
	orNil := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	attrs := map[string]string{}
	for k, v := range o.Attributes {
		attrs[k] = v
	}
	for i := 0; len(attrs) < 24; i++ {
		attrs[fmt.Sprintf("ivr_step_%02d", i)] = fmt.Sprintf("menu-%02d|selected-option-%d|confidence-0.9%d|locale-en-GB|segment-retail-banking", i, i%4, i%10)
	}
	rec := map[string]any{
		"AWSAccountId":                       "111122223333",
		"AWSContactTraceRecordFormatVersion": "2017-03-10",
		"ContactId":                          o.ContactID,
		"InstanceARN":                        o.InstanceARN,
		"Channel":                            def(o.Channel, "VOICE"),
		"InitiationMethod":                   def(o.InitiationMethod, "INBOUND"),
		"InitiationTimestamp":                ts(start),
		"ConnectedToSystemTimestamp":         ts(start.Add(2 * time.Second)),
		"DisconnectTimestamp":                ts(start.Add(5 * time.Minute)),
		"LastUpdateTimestamp":                ts(o.LastUpdate),
		"DisconnectReason":                   def(o.DisconnectReason, "CUSTOMER_DISCONNECT"),
		"InitialContactId":                   orNil(o.InitialContactID),
		"PreviousContactId":                  orNil(o.PreviousContactID),
		"NextContactId":                      orNil(o.NextContactID),
		"CustomerEndpoint":                   map[string]string{"Address": "+447700900123", "Type": "TELEPHONE_NUMBER"},
		"SystemEndpoint":                     map[string]string{"Address": "+442079460000", "Type": "TELEPHONE_NUMBER"},
		"Queue": map[string]any{
			"ARN":              o.InstanceARN + "/queue/" + QueueID,
			"Name":             "RetailBanking",
			"EnqueueTimestamp": ts(start.Add(40 * time.Second)),
			"DequeueTimestamp": ts(start.Add(70 * time.Second)),
			"Duration":         30,
		},
		"Attributes": attrs,
		"Recording":  nil,
		"Recordings": nil,
	}
	if o.AgentUsername != "" {
		userID := o.AgentUserID
		if userID == "" {
			userID = AgentUserID(o.AgentUsername)
		}
		rec["Agent"] = map[string]any{
			"ARN":                       o.InstanceARN + "/agent/" + userID,
			"Username":                  o.AgentUsername,
			"ConnectedToAgentTimestamp": ts(start.Add(72 * time.Second)),
			"AgentInteractionDuration":  228,
			"RoutingProfile":            map[string]string{"Name": "Retail", "ARN": o.InstanceARN + "/routing-profile/aa11"},
			"HierarchyGroups":           nil,
		}
	}
	if o.RecordingLocation != "" {
		status := def(o.RecordingStatus, "AVAILABLE").(string)
		media := "AUDIO"
		if o.Channel == "CHAT" {
			media = "CHAT"
		}
		r := map[string]string{
			"Location": o.RecordingLocation, "Status": status, "StorageType": "S3",
			"MediaStreamType": media, "ParticipantType": "AGENT", "DeletionReason": o.DeletionReason,
		}
		rec["Recordings"] = []map[string]string{r}
		if media == "AUDIO" {
			rec["Recording"] = map[string]string{"Location": o.RecordingLocation, "Status": status, "Type": "AUDIO", "DeletionReason": o.DeletionReason}
		}
	}
	// A map of strings, numbers and nested maps always encodes.
	b, _ := json.Marshal(rec)
	return b
}

// ContactID returns a deterministic UUID-shaped contact ID for sequence n.
func ContactID(seed, n int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", seed, n>>16&0xffff, n>>4&0xfff, n&0xfff, n)
}

// AgentUserID returns a deterministic UUID-shaped Connect user ID for a
// username.
func AgentUserID(username string) string {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(username) {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), uint16(h)&0xfff, uint16(h>>4)&0xfff, h&0xffffffffffff)
}
