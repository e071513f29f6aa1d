package operations

import (
	"time"

	"github.com/connectingest/connect-ingest/internal/store"
)

// RejectedView is the stable JSON form of a quarantined record, shared by
// `ingestctl rejected list --json` and the admin API's GET /v1/rejected.
// RawData is base64 of the bytes as received, or of their first 64 KiB
// (RawLength and RawSHA256 describe the whole record), and empty for a
// record kept past its tenant's quota.
type RejectedView struct {
	ID                int64     `json:"id"`
	TenantID          string    `json:"tenantId"`
	FirehoseRequestID string    `json:"firehoseRequestId"`
	RecordIndex       int       `json:"recordIndex"`
	Reason            string    `json:"reason"`
	Detail            string    `json:"detail"`
	RawData           []byte    `json:"rawData"`
	RawLength         int64     `json:"rawLength"`
	RawSHA256         string    `json:"rawSha256"`
	ReceivedAt        time.Time `json:"receivedAt"`
}

// NewRejectedView returns r's JSON form.
func NewRejectedView(r store.Rejected) RejectedView {
	return RejectedView(r)
}
