package activities_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/testkit/s3role"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// behind points the tenant at the S3 stand-in through the permissions of a
// role with policy p, as S3 itself would answer that role.
func (f *fixture) behind(t *testing.T, p s3role.Policy) {
	t.Helper()
	upstream, _ := url.Parse("http://127.0.0.1:9100")
	front := httptest.NewServer(s3role.New(upstream, p))
	t.Cleanup(front.Close)
	ctx := context.Background()
	tn, err := f.acts.Tenants.Get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tn.AWSEndpointURL = front.URL
	if err := f.acts.Tenants.Update(ctx, tn); err != nil {
		t.Fatal(err)
	}
}

// copyUntil copies with the waiting contract: WaitUntil set, states
// recorded.
func (f *fixture) copyUntil(t *testing.T, key string, until time.Time) error {
	t.Helper()
	_, err := f.env.ExecuteActivity(f.acts.CopyRecording, activities.CopyRecordingInput{
		TenantID: "acme", ContactID: "c-1", Location: f.source + "/" + key, Participant: "AGENT", MediaType: "AUDIO",
		Day: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), WaitUntil: until,
	})
	return err
}

// state is the conversation's state and detail in Postgres.
func (f *fixture) state(t *testing.T) (conversation.State, string) {
	t.Helper()
	c, _, err := f.acts.Conversations.Get(context.Background(), "acme", "c-1")
	if err != nil {
		t.Fatal(err)
	}
	return c.State, c.StateDetail
}

func retryable(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && !ae.NonRetryable()
}

func TestCopyUnderALeastPrivilegeRole(t *testing.T) {
	t.Run("without s3:ListBucket a missing recording is a 403, waited for, then recording_missing saying why", func(t *testing.T) {
		f := newFixture(t)
		f.behind(t, s3role.Policy{})
		err := f.copyUntil(t, "connect/acme/late.wav", time.Now().Add(time.Hour))
		if errType(err) != activities.ErrTypeRecordingNotFound || !retryable(err) {
			t.Fatalf("within the window: %v, want a retryable %s", err, activities.ErrTypeRecordingNotFound)
		}
		if st, _ := f.state(t); st != conversation.WaitingRecording {
			t.Errorf("state %s, want waiting_recording", st)
		}
		err = f.copyUntil(t, "connect/acme/late.wav", time.Now().Add(-time.Second))
		if errType(err) != activities.ErrTypeRecordingMissing || retryable(err) {
			t.Fatalf("past the window: %v, want a final %s", err, activities.ErrTypeRecordingMissing)
		}
		if st, detail := f.state(t); st != conversation.RecordingMissing || !strings.Contains(detail, "access denied or missing (does the role have s3:ListBucket?)") {
			t.Errorf("state %s %q, want recording_missing naming s3:ListBucket", st, detail)
		}
	})

	t.Run("a recording present is copied all the same", func(t *testing.T) {
		f := newFixture(t)
		f.behind(t, s3role.Policy{})
		f.put(t, "connect/acme/ok.wav", testenv.WAV(1))
		if err := f.copyUntil(t, "connect/acme/ok.wav", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("with s3:ListBucket, an object the role may not read ends recording_access_denied at once", func(t *testing.T) {
		f := newFixture(t)
		f.behind(t, s3role.Policy{ListBucket: true, DenyPrefixes: []string{"secret/"}})
		f.put(t, "secret/c-1.wav", testenv.WAV(1))
		err := f.copyUntil(t, "secret/c-1.wav", time.Now().Add(time.Hour))
		if errType(err) != activities.ErrTypeRecordingAccessDenied || retryable(err) {
			t.Fatalf("%v, want a final %s", err, activities.ErrTypeRecordingAccessDenied)
		}
		want := "s3:GetObject on arn:aws:s3:::" + f.source + "/secret/c-1.wav"
		if st, detail := f.state(t); st != conversation.RecordingAccessDenied || !strings.Contains(detail, want) {
			t.Errorf("state %s %q, want recording_access_denied naming %s", st, detail, want)
		}
	})

	t.Run("with s3:ListBucket, a missing recording is still just not there yet", func(t *testing.T) {
		f := newFixture(t)
		f.behind(t, s3role.Policy{ListBucket: true})
		err := f.copyUntil(t, "connect/acme/late.wav", time.Now().Add(time.Hour))
		if errType(err) != activities.ErrTypeRecordingNotFound || !retryable(err) {
			t.Fatalf("%v, want a retryable %s", err, activities.ErrTypeRecordingNotFound)
		}
	})

	t.Run("a KMS key policy that leaves the role out ends recording_access_denied naming kms:Decrypt", func(t *testing.T) {
		f := newFixture(t)
		const key = "arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		f.behind(t, s3role.Policy{ListBucket: true, KMSKeys: []string{"arn:aws:kms:eu-west-2:111122223333:key/other"}})
		wav := testenv.WAV(1)
		if _, err := f.s3.PutObject(context.Background(), f.source, "kms/c-1.wav", bytes.NewReader(wav), int64(len(wav)),
			minio.PutObjectOptions{UserMetadata: map[string]string{"Kms-Key-Id": key}}); err != nil {
			t.Fatal(err)
		}
		err := f.copyUntil(t, "kms/c-1.wav", time.Now().Add(time.Hour))
		if errType(err) != activities.ErrTypeRecordingAccessDenied || retryable(err) {
			t.Fatalf("%v, want a final %s", err, activities.ErrTypeRecordingAccessDenied)
		}
		if st, detail := f.state(t); st != conversation.RecordingAccessDenied || !strings.Contains(detail, "kms:Decrypt") {
			t.Errorf("state %s %q, want recording_access_denied naming kms:Decrypt", st, detail)
		}

		t.Run("and once the key policy names the role, the copy goes through", func(t *testing.T) {
			f.behind(t, s3role.Policy{ListBucket: true, KMSKeys: []string{key}})
			if err := f.copyUntil(t, "kms/c-1.wav", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func TestCopyReadsTheAudio(t *testing.T) {
	t.Run("a Connect recording's format and channel peaks are recorded with it", func(t *testing.T) {
		f := newFixture(t)
		f.put(t, "connect/acme/ok.wav", testenv.WAV(2))
		if err := f.copyUntil(t, "connect/acme/ok.wav", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		_, recs, err := f.acts.Conversations.Get(context.Background(), "acme", "c-1")
		if err != nil || len(recs) != 1 || recs[0].Audio == nil {
			t.Fatalf("recordings %+v, %v: want one with its audio", recs, err)
		}
		a := recs[0].Audio
		if a.Codec != "pcm_s16le" || a.SampleRateHz != 8000 || a.Channels != 2 || a.DurationMillis != 2000 ||
			len(a.Peaks) != 2 || a.Peaks[0] < 5000 || a.Peaks[1] < 5000 {
			t.Errorf("audio %+v", a)
		}
	})

	for name, body := range map[string][]byte{
		"a 44-byte header with no audio": testenv.WAV(0),
		"an MP3 named .wav":              append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0xff, 0xfb}, 500)...),
	} {
		t.Run(name+" ends recording_empty at once, and nothing is stored", func(t *testing.T) {
			f := newFixture(t)
			f.put(t, "connect/acme/bad.wav", body)
			err := f.copyUntil(t, "connect/acme/bad.wav", time.Now().Add(time.Hour))
			if errType(err) != activities.ErrTypeRecordingEmpty || retryable(err) {
				t.Fatalf("%v, want a final %s", err, activities.ErrTypeRecordingEmpty)
			}
			if st, detail := f.state(t); st != conversation.RecordingEmpty || !strings.Contains(detail, "bad.wav") {
				t.Errorf("state %s %q, want recording_empty naming the recording", st, detail)
			}
			for obj := range f.store.ListObjects(context.Background(), f.acts.Bucket, minio.ListObjectsOptions{Recursive: true}) {
				t.Errorf("stored %s", obj.Key)
			}
		})
	}
}
