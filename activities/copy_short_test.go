package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func (f *fixture) copyShort(t testing.TB, location string, maxBytes int64) (activities.CopyShortRecordingResult, error) {
	t.Helper()
	val, err := f.env.ExecuteLocalActivity(f.acts.CopyShortRecording, activities.CopyShortRecordingInput{
		Copy: activities.CopyRecordingInput{
			TenantID: "acme", ContactID: "c-1", Location: location, Participant: "AGENT", MediaType: "AUDIO",
			Day: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), WaitUntil: time.Now().Add(time.Minute),
		},
		MaxBytes: maxBytes,
	})
	if err != nil {
		return activities.CopyShortRecordingResult{}, err
	}
	var res activities.CopyShortRecordingResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func TestCopyShortRecording(t *testing.T) {
	f := newFixture(t)
	wav := testenv.WAV(2)
	key := "connect/acme/CallRecordings/2026/11/24/c-1_short.wav"
	f.put(t, key, wav)

	t.Run("copies a recording in S3 and within the bound, as the copy activity does", func(t *testing.T) {
		res, err := f.copyShort(t, f.source+"/"+key, int64(len(wav)))
		if err != nil || res.Deferred != "" || res.Copied.SizeBytes != int64(len(wav)) || res.Copied.SHA256 == "" {
			t.Fatalf("result = %+v, %v", res, err)
		}
		st, err := f.store.StatObject(context.Background(), res.Copied.Bucket, res.Copied.Key, minio.StatObjectOptions{})
		if err != nil || st.Size != int64(len(wav)) {
			t.Fatalf("stored object: %+v, %v", st, err)
		}
	})

	t.Run("defers a recording larger than the bound, without copying a byte", func(t *testing.T) {
		f.put(t, "connect/acme/long.wav", wav)
		res, err := f.copyShort(t, f.source+"/connect/acme/long.wav", int64(len(wav))-1)
		if err != nil || res.Deferred != activities.DeferredTooLarge || res.Copied.Key != "" {
			t.Fatalf("result = %+v, %v", res, err)
		}
		k := activities.ObjectKey("acme", "c-1", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), f.source+"/connect/acme/long.wav")
		if _, err := f.store.StatObject(context.Background(), f.acts.Bucket, k, minio.StatObjectOptions{}); minio.ToErrorResponse(err).StatusCode != 404 {
			t.Fatalf("the deferred recording is in MinIO: %v", err)
		}
	})

	t.Run("defers a recording not in S3 yet, without waiting and without a state", func(t *testing.T) {
		res, err := f.copyShort(t, f.source+"/connect/acme/late.wav", 1<<20)
		if err != nil || res.Deferred != activities.DeferredNotInS3 {
			t.Fatalf("result = %+v, %v", res, err)
		}
		conv, _, err := f.acts.Conversations.Get(context.Background(), "acme", "c-1")
		if err != nil || conv.State == conversation.WaitingRecording {
			t.Fatalf("state %q, %v: the quick copy never says waiting", conv.State, err)
		}
	})

	t.Run("a location outside the tenant's buckets is rejected for good, the state recorded", func(t *testing.T) {
		_, err := f.copyShort(t, "other-bucket/"+key, 1<<20)
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || ae.Type() != activities.ErrTypeLocationNotAllowed || !ae.NonRetryable() {
			t.Fatalf("err = %v, want a non-retryable %s", err, activities.ErrTypeLocationNotAllowed)
		}
		conv, _, err := f.acts.Conversations.Get(context.Background(), "acme", "c-1")
		if err != nil || conv.State != conversation.Rejected {
			t.Fatalf("state %q, %v; want rejected", conv.State, err)
		}
	})
}
