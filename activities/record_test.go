package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
)

// stateOf is the conversation's state and detail in Postgres.
func (f *fixture) stateOf(t *testing.T, contactID string) (conversation.State, string) {
	t.Helper()
	c, _, err := f.acts.Conversations.Get(context.Background(), "acme", contactID)
	if err != nil {
		t.Fatal(err)
	}
	return c.State, c.StateDetail
}

// storeVersion puts a CTR version in the claim-check store, as the
// consumer does, and returns its reference.
func (f *fixture) storeVersion(t *testing.T, contactID string, lu time.Time, location string) conversation.CTRRef {
	t.Helper()
	raw := ctrtest.Sample(ctrtest.Options{ContactID: contactID, InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/i-1",
		LastUpdate: lu, AgentUsername: "jdoe", RecordingLocation: location})
	ref := conversation.NewCTRRef("acme", contactID, lu, raw)
	if _, err := f.acts.CTRVersions.Put(context.Background(), ref, raw, "req-1", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	return ref
}

func (f *fixture) record(t *testing.T, ref conversation.CTRRef) activities.RecordCTRResult {
	t.Helper()
	val, err := f.env.ExecuteActivity(f.acts.RecordCTR, activities.RecordCTRInput{Ref: ref})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.RecordCTRResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRecordCTR(t *testing.T) {
	f := newFixture(t)
	t0 := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	first := f.source + "/connect/acme/CallRecordings/2026/11/24/c-rec.wav"
	second := f.source + "/connect/acme/CallRecordings/2026/11/24/c-rec_redacted.wav"

	t.Run("reads the version by its reference, stores the conversation and says what to copy, in its state", func(t *testing.T) {
		res := f.record(t, f.storeVersion(t, "c-rec", t0.Add(time.Hour), second))
		if res.State != conversation.Copying || len(res.ToCopy) != 1 || res.ToCopy[0].Location != second || res.AgentUsername != "jdoe" {
			t.Fatalf("result = %+v", res)
		}
		if st, _ := f.stateOf(t, "c-rec"); st != conversation.Copying {
			t.Fatalf("stored state %s", st)
		}
	})

	t.Run("a version older than the stored one decides from the newest, never copying what it names", func(t *testing.T) {
		res := f.record(t, f.storeVersion(t, "c-rec", t0, first))
		if len(res.ToCopy) != 1 || res.ToCopy[0].Location != second {
			t.Fatalf("the older version drove the decision: %+v", res)
		}
	})

	t.Run("the first version's steps read a reference-only version too, however the absent CTR was encoded", func(t *testing.T) {
		ref := f.storeVersion(t, "c-v1", t0, first)
		for _, inline := range []json.RawMessage{nil, json.RawMessage("null")} {
			val, err := f.env.ExecuteActivity(f.acts.NormalizeCTR, activities.NormalizeCTRInput{TenantID: "acme", CTR: inline, Ref: ref})
			if err != nil {
				t.Fatalf("CTR %q: %v", inline, err)
			}
			var res activities.NormalizeCTRResult
			if err := val.Get(&res); err != nil || res.Conversation.ContactID != "c-v1" || len(res.Recordings) != 1 {
				t.Fatalf("CTR %q: %+v, %v", inline, res.Conversation, err)
			}
		}
	})

	t.Run("a reference to a version that is not stored fails for good", func(t *testing.T) {
		_, err := f.env.ExecuteActivity(f.acts.RecordCTR, activities.RecordCTRInput{Ref: conversation.CTRRef{TenantID: "acme", ContactID: "c-none", LastUpdateTimestamp: t0}})
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != activities.ErrTypeCTRVersionMissing {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("a stored CTR Postgres would refuse (a NUL in an attribute, as an older gateway let through) fails for good, not retried for ever", func(t *testing.T) {
		raw := []byte(`{"ContactId":"c-nul","LastUpdateTimestamp":"2026-11-24T09:30:00Z","Channel":"VOICE","Attributes":{"a":"x\u0000y"}}`)
		ref := conversation.NewCTRRef("acme", "c-nul", t0, raw)
		if _, err := f.acts.CTRVersions.Put(context.Background(), ref, raw, "", "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		_, err := f.env.ExecuteActivity(f.acts.RecordCTR, activities.RecordCTRInput{Ref: ref})
		var ae *temporal.ApplicationError
		// The strict parse refuses it before Postgres sees it; a statement
		// Postgres refused would fail for good too, as InvalidData.
		if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != activities.ErrTypeMalformedCTR || !strings.Contains(err.Error(), "unstorable_json") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestCopyRecordingWaits(t *testing.T) {
	f := newFixture(t)
	missing := f.source + "/connect/acme/CallRecordings/2026/11/24/not-yet.wav"
	copyUntil := func(until time.Time) error {
		_, err := f.env.ExecuteActivity(f.acts.CopyRecording, activities.CopyRecordingInput{
			TenantID: "acme", ContactID: "c-1", Location: missing, Day: time.Now(), WaitUntil: until,
		})
		return err
	}

	t.Run("a recording not in S3 yet within the window: waiting_recording, and Temporal retries later", func(t *testing.T) {
		err := copyUntil(time.Now().Add(10 * time.Minute))
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || ae.NonRetryable() || ae.Type() != activities.ErrTypeRecordingNotFound || ae.NextRetryDelay() != 15*time.Second {
			t.Fatalf("err = %v", err)
		}
		if st, detail := f.stateOf(t, "c-1"); st != conversation.WaitingRecording || detail != missing {
			t.Fatalf("state %s %q", st, detail)
		}
	})

	t.Run("past the window: recording_missing, for good", func(t *testing.T) {
		err := copyUntil(time.Now().Add(-time.Second))
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != activities.ErrTypeRecordingMissing {
			t.Fatalf("err = %v", err)
		}
		if st, _ := f.stateOf(t, "c-1"); st != conversation.RecordingMissing {
			t.Fatalf("state %s", st)
		}
	})

	t.Run("a location outside the tenant's buckets: rejected, for good", func(t *testing.T) {
		_, err := f.env.ExecuteActivity(f.acts.CopyRecording, activities.CopyRecordingInput{
			TenantID: "acme", ContactID: "c-1", Location: "someone-else/x.wav", Day: time.Now(), WaitUntil: time.Now().Add(time.Minute),
		})
		if errType(err) != activities.ErrTypeLocationNotAllowed {
			t.Fatalf("err = %v", err)
		}
		if st, _ := f.stateOf(t, "c-1"); st != conversation.Rejected {
			t.Fatalf("state %s", st)
		}
	})
}
