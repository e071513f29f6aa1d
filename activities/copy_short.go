package activities

import (
	"context"
	"errors"

	"github.com/connectingest/connect-ingest/internal/conversation"
)

// CopyShortRecordingInput names a recording to copy inside the workflow task
// that decided it, as a local activity, when it is in S3 already and no
// larger than MaxBytes.
type CopyShortRecordingInput struct {
	Copy     CopyRecordingInput
	MaxBytes int64
}

// CopyShortRecordingResult is the stored object, or why the recording was
// left to CopyRecording.
type CopyShortRecordingResult struct {
	Copied CopyRecordingResult
	// Deferred, when set, says why nothing was copied here: the recording
	// is not in S3 yet, or is larger than MaxBytes. The workflow then runs
	// CopyRecording, which waits and retries on its own schedule.
	Deferred string
}

// Why a short copy was deferred.
const (
	DeferredNotInS3         = "not in S3 yet"
	DeferredDeniedOrMissing = "access denied or missing"
	DeferredTooLarge        = "larger than the inline bound"
)

// CopyShortRecording copies a recording that is present and short as one
// quick step, so that a voice call whose recording is in S3 completes in a
// single workflow task. It shares CopyRecording's copy, and so its
// streaming, hashing, reuse and classification of errors: a refused
// location is recorded rejected and fails for good, as does an S3 refusal.
// It never waits: a recording that is absent or too large is deferred to
// CopyRecording, and so is any other failure, by the workflow.
func (a *Activities) CopyShortRecording(ctx context.Context, in CopyShortRecordingInput) (CopyShortRecordingResult, error) {
	t, loc, err := a.copySource(ctx, in.Copy, true)
	if err != nil {
		return CopyShortRecordingResult{}, err
	}
	res, err := a.copyObject(ctx, in.Copy, t, loc, in.MaxBytes)
	var denied *accessDeniedError
	switch {
	case errors.Is(err, errNotInS3):
		return CopyShortRecordingResult{Deferred: DeferredNotInS3}, nil
	case errors.Is(err, errDeniedOrMissing):
		return CopyShortRecordingResult{Deferred: DeferredDeniedOrMissing}, nil
	case errors.Is(err, errTooLarge):
		return CopyShortRecordingResult{Deferred: DeferredTooLarge}, nil
	case errors.As(err, &denied):
		return CopyShortRecordingResult{}, a.refuse(ctx, in.Copy, true, conversation.RecordingAccessDenied, ErrTypeRecordingAccessDenied, err)
	case isUnusable(err):
		return CopyShortRecordingResult{}, a.refuse(ctx, in.Copy, true, conversation.RecordingEmpty, ErrTypeRecordingEmpty, err)
	case err != nil:
		return CopyShortRecordingResult{}, err
	}
	return CopyShortRecordingResult{Copied: res}, nil
}
