// Package conversation holds the vocabulary of a conversation's life that
// every floor shares: the states a conversation moves through. Workflows
// decide them, activities and the store record them, operators filter on
// them; none of those needs to import another to name one.
package conversation

import "slices"

// State is where a conversation stands. Its string form is what Postgres,
// the ConversationState search attribute and every JSON view carry.
type State string

// The states, in the order a conversation meets them. Those from Enqueued
// on are final: the workflow has ended there.
const (
	Received         State = "received"
	WaitingRecording State = "waiting_recording"
	Copying          State = "copying"
	Stored           State = "stored"
	Enqueued         State = "enqueued"
	NoRecording      State = "no_recording"
	RecordingMissing State = "recording_missing"
	// RecordingEmpty: a recording holds no audio, or is not the WAV file
	// it claims to be; nothing was analysed.
	RecordingEmpty State = "recording_empty"
	// RecordingAccessDenied: S3 or KMS refused an object that exists;
	// the detail names the permission to grant before an operator retries.
	RecordingAccessDenied State = "recording_access_denied"
	Rejected              State = "rejected"
	Failed                State = "failed"
	Cancelled             State = "cancelled"
	// Erased is where an erased contact ends: nothing of it is stored but
	// its tombstone, and its CTRs are refused.
	Erased State = "erased"
)

var states = []State{Received, WaitingRecording, Copying, Stored, Enqueued, NoRecording, RecordingMissing,
	RecordingEmpty, RecordingAccessDenied, Rejected, Failed, Cancelled, Erased}

// States lists every conversation state, in the order a conversation meets
// them.
func States() []State {
	return slices.Clone(states)
}

// Valid reports whether s is one of the states.
func (s State) Valid() bool {
	return slices.Contains(states, s)
}

// Final reports whether a conversation in state s has finished: its
// workflow ended there and only a new CTR version or an operator moves it.
func (s State) Final() bool {
	switch s {
	case Enqueued, NoRecording, RecordingMissing, RecordingEmpty, RecordingAccessDenied, Rejected, Failed, Cancelled, Erased:
		return true
	}
	return false
}

// String returns the state's name.
func (s State) String() string {
	return string(s)
}
