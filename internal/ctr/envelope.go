package ctr

import (
	"encoding/json"
	"time"
)

// EnvelopeType is the AMQP type of a message carrying an Envelope.
const EnvelopeType = "connect.ctr.v1"

// Envelope is one CTR version on its way from the gateway to the worker: the
// tenant it belongs to (from the access key), its identity, and the CTR as
// Connect sent it.
type Envelope struct {
	TenantID            string          `json:"tenantId"`
	ContactID           string          `json:"contactId"`
	LastUpdateTimestamp time.Time       `json:"lastUpdateTimestamp"`
	FirehoseRequestID   string          `json:"firehoseRequestId"`
	ReceivedAt          time.Time       `json:"receivedAt"`
	CTR                 json.RawMessage `json:"ctr"`
}

// MessageID identifies one version of one contact's CTR for one tenant, so a
// re-sent copy of the same version carries the same ID everywhere.
func (e Envelope) MessageID() string {
	return e.TenantID + "/" + e.ContactID + "/" + e.LastUpdateTimestamp.UTC().Format(time.RFC3339Nano)
}
