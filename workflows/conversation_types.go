package workflows

import (
	"encoding/json"
	"time"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
)

// CTRSignal is the name of the signal that carries a CTR version to its
// conversation's workflow.
const CTRSignal = "ctr-version"

// RetrySignal wakes a conversation that waits for its recording, so that it
// looks again now instead of at its next timer (`ingestctl calls retry`).
const RetrySignal = "retry-now"

// CancelReasonSignal carries the operator's reason just before the
// workflow is cancelled (`ingestctl calls cancel`); the conversation is
// marked cancelled with it.
const CancelReasonSignal = "cancel-reason"

// CancelReason is the payload of CancelReasonSignal.
type CancelReason struct {
	Reason string
}

// CTRVersion is the signal that tells a conversation's workflow of a CTR
// version. It is a claim check: the version is stored in Postgres first,
// and the signal names it, never carrying what it says.
type CTRVersion struct {
	LastUpdateTimestamp time.Time
	FirehoseRequestID   string
	// SHA256 is the stored version's content hash.
	SHA256 string `json:",omitempty"`
	// CTR is the record itself, as signals carried it before the claim
	// check; only such signals, already in the history of runs of the first
	// workflow version, have it.
	CTR json.RawMessage `json:",omitempty"`
}

// ref is the claim check of version v of the conversation in.
func (v CTRVersion) ref(in ConversationInput) conversation.CTRRef {
	return conversation.CTRRef{TenantID: in.TenantID, ContactID: in.ContactID,
		LastUpdateTimestamp: v.LastUpdateTimestamp, SHA256: v.SHA256}
}

// ConversationInput starts a conversation workflow. It carries the claim
// check of the version the run starts with, when Deliver started it with a
// plain start; every later version arrives by signal.
type ConversationInput struct {
	TenantID  string
	ContactID string
	// First is the version the run starts with, set by a plain start
	// (ConversationWorkflowV4). It is nil when the first version comes by
	// signal, as it does in every run signal-with-start began.
	First *CTRVersion `json:",omitempty"`
	// RecordingWaitWindow bounds the wait for a recording that is not in
	// S3 yet.
	RecordingWaitWindow time.Duration
	// InlineCopyMaxBytes bounds the recordings ConversationWorkflowV3
	// copies with a local activity, inside the workflow task that decided
	// the copy; larger ones, and every recording when it is zero, are
	// copied by the CopyRecording activity.
	InlineCopyMaxBytes int64 `json:",omitempty"`
}

// ConversationResult is where the conversation ended.
type ConversationResult struct {
	State      conversation.State
	Detail     string
	Recordings []activities.CopyRecordingResult
	// Enqueued is true when this run enqueued the analysis job.
	Enqueued bool
	// Versions counts the CTR versions this run processed.
	Versions int
}
