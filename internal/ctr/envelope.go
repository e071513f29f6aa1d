package ctr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// EnvelopeType is the AMQP type of a message carrying an Envelope.
const EnvelopeType = "connect.ctr.v1"

// Envelope is one CTR version on its way from the gateway to the worker: the
// tenant it belongs to (from the access key), its identity, and the CTR as
// Connect sent it.
type Envelope struct {
	TenantID            string    `json:"tenantId"`
	ContactID           string    `json:"contactId"`
	LastUpdateTimestamp time.Time `json:"lastUpdateTimestamp"`
	FirehoseRequestID   string    `json:"firehoseRequestId"`
	ReceivedAt          time.Time `json:"receivedAt"`
	// Origin is empty for a CTR Firehose delivered, OriginReconciled for
	// one rebuilt from Connect's contact API.
	Origin string          `json:"origin,omitempty"`
	CTR    json.RawMessage `json:"ctr"`
}

// OriginReconciled marks a CTR rebuilt by the reconciliation from Amazon
// Connect's contact API, for a contact whose CTR never arrived.
const OriginReconciled = "reconciled"

// MessageID identifies one version of one contact's CTR for one tenant, so a
// re-sent copy of the same version carries the same ID everywhere.
func (e Envelope) MessageID() string {
	return e.TenantID + "/" + e.ContactID + "/" + e.LastUpdateTimestamp.UTC().Format(time.RFC3339Nano)
}

// Encode returns the envelope as JSON, the same document json.Marshal would
// produce up to white space, without re-scanning the CTR: e.CTR must already
// be valid JSON (Identify checked it). On the gateway's hot path that scan
// was a tenth of the CPU.
func (e Envelope) Encode() ([]byte, error) {
	return e.AppendEncode(nil)
}

// AppendEncode is Encode appending to dst, for callers that reuse a buffer.
// The head is written by hand, as json.Marshal would write it: reflecting
// over the struct for every record cost the gateway a twentieth of its CPU.
func (e Envelope) AppendEncode(dst []byte) ([]byte, error) {
	ctr := bytes.TrimSpace(e.CTR)
	if len(ctr) == 0 {
		return nil, fmt.Errorf("encode envelope: no CTR")
	}
	dst = append(dst, `{"tenantId":`...)
	dst = appendJSONString(dst, e.TenantID)
	dst = append(dst, `,"contactId":`...)
	dst = appendJSONString(dst, e.ContactID)
	dst = append(dst, `,"lastUpdateTimestamp":`...)
	dst, err := appendJSONTime(dst, e.LastUpdateTimestamp)
	if err != nil {
		return nil, fmt.Errorf("encode envelope: lastUpdateTimestamp: %w", err)
	}
	dst = append(dst, `,"firehoseRequestId":`...)
	dst = appendJSONString(dst, e.FirehoseRequestID)
	dst = append(dst, `,"receivedAt":`...)
	if dst, err = appendJSONTime(dst, e.ReceivedAt); err != nil {
		return nil, fmt.Errorf("encode envelope: receivedAt: %w", err)
	}
	if e.Origin != "" {
		dst = append(dst, `,"origin":`...)
		dst = appendJSONString(dst, e.Origin)
	}
	dst = append(dst, `,"ctr":`...)
	dst = append(dst, ctr...)
	return append(dst, '}'), nil
}

// appendJSONTime appends t as json.Marshal writes a time.Time. A UTC time of
// years 0-9999 (every time the gateway writes) is formatted in place; any
// other takes time.Time's own MarshalJSON, with its checks.
func appendJSONTime(dst []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); t.Location() != time.UTC || y < 0 || y > 9999 {
		b, err := t.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return append(dst, b...), nil
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"'), nil
}

// appendJSONString appends s quoted as json.Marshal quotes it. Identifiers
// are plain ASCII, which is copied as is; anything else (a quote, a
// backslash, a control character, <, > or &, any non-ASCII byte) takes
// json.Marshal's own path, so the two never differ.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			// Marshalling a string cannot fail.
			q, _ := json.Marshal(s)
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
