package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/minio/minio-go/v7"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
)

// RetractionType is the AMQP type of a retraction, sent on the analysis
// queue beside the jobs: the platform drops what it holds of the
// recordings it names, or of the whole conversation.
const RetractionType = "connect.analysis.retraction.v1"

// The reasons a retraction gives.
const (
	// RetractRecordingDeleted: Connect deleted the recordings named (or a
	// newer CTR no longer lists them).
	RetractRecordingDeleted = "recording_deleted"
	// RetractErased: the contact was erased, on request, by the tenant's
	// retention or with the tenant; the platform drops all of it.
	RetractErased = "erased"
)

// Retraction is the message that withdraws analysed recordings. It names
// objects, never their content; Reason is one of the Retract constants and
// DeletionReason, for a deleted recording, Connect's.
type Retraction struct {
	TenantID  string `json:"tenantId"`
	ContactID string `json:"contactId"`
	Reason    string `json:"reason"`
	// WholeConversation is true when everything of the contact is to be
	// dropped, Recordings or not.
	WholeConversation bool                 `json:"wholeConversation"`
	Recordings        []RetractedRecording `json:"recordings"`
	RetractedAt       time.Time            `json:"retractedAt"`
}

// RetractedRecording is one withdrawn recording object.
type RetractedRecording struct {
	Bucket         string `json:"bucket"`
	Key            string `json:"key"`
	Participant    string `json:"participant"`
	DeletionReason string `json:"deletionReason,omitempty"`
}

// RetractionMessageID is a retraction's message ID: the same for every
// attempt at the same retraction, so the platform can drop a duplicate.
func RetractionMessageID(tenantID, contactID, reason, fingerprint string) string {
	return "retraction/" + tenantID + "/" + contactID + "/" + reason + "/" + fingerprint
}

// publishRetraction sends r on the analysis queue with a publisher
// confirm.
func (a *Activities) publishRetraction(ctx context.Context, r Retraction, fingerprint string) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode retraction of %s/%s: %w", r.TenantID, r.ContactID, err)
	}
	msg := queue.Message{
		ID: RetractionMessageID(r.TenantID, r.ContactID, r.Reason, fingerprint), Type: RetractionType, Body: body,
		Timestamp: r.RetractedAt, Headers: amqp.Table{"tenant_id": r.TenantID, "contact_id": r.ContactID},
	}
	if err := a.Publisher.PublishSeq(ctx, a.AnalysisQueue, slices.Values([]queue.Message{msg})); err != nil {
		return fmt.Errorf("send retraction of %s/%s: %w", r.TenantID, r.ContactID, err)
	}
	return nil
}

// RemovedRecording is a copy to remove, by its source location, and why.
type RemovedRecording struct {
	Location string
	Reason   string
}

// RemoveDeletedRecordingsInput names a conversation's copies whose
// recordings Connect deleted.
type RemoveDeletedRecordingsInput struct {
	TenantID   string
	ContactID  string
	Recordings []RemovedRecording
}

// RemoveDeletedRecordingsResult says what was done.
type RemoveDeletedRecordingsResult struct {
	// Removed counts the copies removed from MinIO by this call.
	Removed int
	// Retracted is true when a retraction was sent: the conversation had
	// been enqueued for analysis.
	Retracted bool
}

// RemoveDeletedRecordings removes from MinIO the copies of recordings that
// Connect deleted, marks them deleted with Connect's reason and, when the
// conversation was enqueued for analysis, sends a retraction naming them.
// It is idempotent: a copy already removed is not removed again, and a
// repeated call sends the same retraction, with the same message ID.
func (a *Activities) RemoveDeletedRecordings(ctx context.Context, in RemoveDeletedRecordingsInput) (RemoveDeletedRecordingsResult, error) {
	c, recs, err := a.Conversations.Get(ctx, in.TenantID, in.ContactID)
	if err != nil {
		return RemoveDeletedRecordingsResult{}, err
	}
	var res RemoveDeletedRecordingsResult
	r := Retraction{TenantID: in.TenantID, ContactID: in.ContactID, Reason: RetractRecordingDeleted,
		Recordings: []RetractedRecording{}, RetractedAt: time.Now().UTC()}
	var locations []string
	for _, rm := range in.Recordings {
		i := slices.IndexFunc(recs, func(r store.Recording) bool { return r.SourceLocation == rm.Location })
		if i < 0 || recs[i].ObjectKey == "" {
			continue
		}
		rec := recs[i]
		if rec.DeletedAt == nil {
			if err := a.removeObject(ctx, rec); err != nil {
				return RemoveDeletedRecordingsResult{}, err
			}
			if err := a.Conversations.MarkRecordingDeleted(ctx, in.TenantID, in.ContactID, rm.Location, rm.Reason); err != nil {
				return RemoveDeletedRecordingsResult{}, err
			}
			res.Removed++
		}
		locations = append(locations, rm.Location)
		r.Recordings = append(r.Recordings, RetractedRecording{Bucket: rec.ObjectBucket, Key: rec.ObjectKey,
			Participant: rec.Participant, DeletionReason: rm.Reason})
	}
	if c.AnalysisEnqueuedAt == nil || len(r.Recordings) == 0 {
		return res, nil
	}
	if err := a.publishRetraction(ctx, r, Fingerprint(locations)); err != nil {
		return RemoveDeletedRecordingsResult{}, err
	}
	res.Retracted = true
	return res, nil
}

// removeObject deletes a recording's copy, every version of it, and any
// unfinished upload of it; one already gone is not an error.
func (a *Activities) removeObject(ctx context.Context, rec store.Recording) error {
	bucket := rec.ObjectBucket
	if bucket == "" {
		bucket = a.Bucket
	}
	if err := a.MinIO.RemoveIncompleteUpload(ctx, bucket, rec.ObjectKey); err != nil {
		return fmt.Errorf("remove unfinished upload %s/%s: %w", bucket, rec.ObjectKey, err)
	}
	// In a versioned bucket a plain delete would only hide the object
	// behind a delete marker that still names it: each version goes by its
	// ID, markers included. An unversioned bucket lists its one object
	// with the version ID "null", which deletes it.
	for v := range a.MinIO.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: rec.ObjectKey, WithVersions: true}) {
		if v.Err != nil {
			return fmt.Errorf("list the versions of %s/%s: %w", bucket, rec.ObjectKey, v.Err)
		}
		if v.Key != rec.ObjectKey {
			continue
		}
		err := a.MinIO.RemoveObject(ctx, bucket, v.Key, minio.RemoveObjectOptions{VersionID: v.VersionID})
		if err != nil {
			return fmt.Errorf("remove version %s of %s/%s: %w", v.VersionID, bucket, rec.ObjectKey, err)
		}
	}
	return nil
}
