package activities

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
)

// DiscardPartialCopyInput names the recording whose copy was stopped.
type DiscardPartialCopyInput struct {
	Copy CopyRecordingInput
}

// DiscardPartialCopyResult says what was removed.
type DiscardPartialCopyResult struct {
	// RemovedObject is true when an object without a recorded copy was
	// deleted: the copy had stored it but not recorded it.
	RemovedObject bool
	// Kept is true when the copy had completed and been recorded, so its
	// object stays.
	Kept bool
}

// DiscardPartialCopy removes what a stopped copy may have left in MinIO: the
// parts of an unfinished multipart upload, and an object stored but never
// recorded in Postgres. A copy that completed and was recorded is kept: it
// is whole and verified. It is idempotent.
func (a *Activities) DiscardPartialCopy(ctx context.Context, in DiscardPartialCopyInput) (DiscardPartialCopyResult, error) {
	c := in.Copy
	key := ObjectKey(c.TenantID, c.ContactID, c.Day, c.Location)
	if err := a.MinIO.RemoveIncompleteUpload(ctx, a.Bucket, key); err != nil {
		return DiscardPartialCopyResult{}, fmt.Errorf("remove unfinished upload %s/%s: %w", a.Bucket, key, err)
	}
	if _, ok, err := a.copied(ctx, c, key); err != nil || ok {
		return DiscardPartialCopyResult{Kept: ok}, err
	}
	_, err := a.MinIO.StatObject(ctx, a.Bucket, key, minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).StatusCode == 404 {
		return DiscardPartialCopyResult{}, nil
	}
	if err != nil {
		return DiscardPartialCopyResult{}, fmt.Errorf("stat %s/%s: %w", a.Bucket, key, err)
	}
	if err := a.MinIO.RemoveObject(ctx, a.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return DiscardPartialCopyResult{}, fmt.Errorf("remove %s/%s: %w", a.Bucket, key, err)
	}
	return DiscardPartialCopyResult{RemovedObject: true}, nil
}
