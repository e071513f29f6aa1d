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

// CTRVersion is one version of a contact's CTR, as signalled by the worker's
// consumer.
type CTRVersion struct {
	LastUpdateTimestamp time.Time
	FirehoseRequestID   string
	CTR                 json.RawMessage
}

// ConversationInput starts a ConversationWorkflow. The CTR itself arrives by
// signal (signal-with-start), so every version travels the same way.
type ConversationInput struct {
	TenantID  string
	ContactID string
	// RecordingWaitWindow bounds the wait for a recording that is not in
	// S3 yet.
	RecordingWaitWindow time.Duration
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
