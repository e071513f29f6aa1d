package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/store"
)

// Error types of failures that retrying cannot fix. Workflows match on them;
// they are stable strings because they travel in Temporal histories.
const (
	// ErrTypeMalformedCTR: the CTR cannot be decoded into a conversation.
	ErrTypeMalformedCTR = "MalformedCTR"
	// ErrTypeLocationNotAllowed: a recording location is outside the
	// tenant's buckets or tries to escape its bucket.
	ErrTypeLocationNotAllowed = "RecordingLocationNotAllowed"
	// ErrTypeRecordingNotFound: the recording is not (yet) in S3. The
	// workflow waits with durable timers and asks again.
	ErrTypeRecordingNotFound = "RecordingNotFound"
	// ErrTypeTenantNotFound: the tenant was removed.
	ErrTypeTenantNotFound = "TenantNotFound"
	// ErrTypeRecordingMissing: the recording did not appear in S3 within
	// the wait window. The conversation is recording_missing.
	ErrTypeRecordingMissing = "RecordingMissing"
	// ErrTypeRecordingRefused: S3 refused the recording for a reason other
	// than its absence (a client error such as an invalid key or access
	// denied).
	ErrTypeRecordingRefused = "RecordingRefused"
	// ErrTypeRecordingAccessDenied: S3 or KMS refused a recording that
	// exists; the conversation is recording_access_denied, with the
	// permission to grant in its detail.
	ErrTypeRecordingAccessDenied = "RecordingAccessDenied"
	// ErrTypeRecordingEmpty: a recording holds no audio, or is not the WAV
	// file it claims to be. The conversation is recording_empty.
	ErrTypeRecordingEmpty = "RecordingEmpty"
	// ErrTypeInvalidData: Postgres refused the conversation's data (invalid
	// text, a number out of range, a constraint).
	ErrTypeInvalidData = "InvalidData"
	// ErrTypeCTRVersionMissing: the claim check names a CTR version that is
	// not stored (its tenant was removed, or it was erased).
	ErrTypeCTRVersionMissing = "CTRVersionMissing"
	// ErrTypeNotErasing: an erasure step ran for a contact that has no
	// tombstone; the erasure must begin first.
	ErrTypeNotErasing = "NotErasing"
	// ErrTypeContactErased: the contact was erased, or its erasure has
	// begun; nothing of it may be stored or sent again. The run ends
	// erased.
	ErrTypeContactErased = "ContactErased"
	// ErrTypeConnectRefused: Amazon Connect refused a request for a reason
	// retrying cannot fix (access denied, an invalid parameter): the
	// tenant's access must be corrected first.
	ErrTypeConnectRefused = "ConnectRefused"
)

// permanent marks err as one retrying cannot fix, with type typ.
func permanent(typ string, err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), typ, err)
}

// classify returns err, marked permanent when Postgres refused the data or
// the contact is erased: retrying the same statement would be refused
// again.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case store.IsErased(err):
		return permanent(ErrTypeContactErased, err)
	case store.IsDataError(err):
		return permanent(ErrTypeInvalidData, err)
	}
	return err
}

// isErrType reports whether err is an application error of type typ.
func isErrType(err error, typ string) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() == typ
}
