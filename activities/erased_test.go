package activities_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// eraseInPostgres does to the contact what an erasure does to Postgres: its
// tombstone first, then its rows gone.
func (f *fixture) eraseInPostgres(t *testing.T, contactID string, purge bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.acts.Erasures.Begin(ctx, store.Erasure{TenantID: "acme", ContactID: contactID, Reason: "test", RequestedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	if !purge {
		return
	}
	if _, err := f.acts.Erasures.Purge(ctx, "acme", contactID); err != nil {
		t.Fatal(err)
	}
}

// objects counts the objects (every version) of the recording store's bucket.
func (f *fixture) objects(t *testing.T) int {
	t.Helper()
	n := 0
	for o := range f.store.ListObjects(context.Background(), f.acts.Bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	return n
}

// TestErasedMidRun pauses a run between its steps while the contact's
// erasure begins or completes, then lets each step go on: none of them may
// store or send anything of the contact again.
func TestErasedMidRun(t *testing.T) {
	f := newFixture(t)
	t0 := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	key := "connect/acme/CallRecordings/2026/11/24/c-mid.wav"
	f.put(t, key, testenv.WAV(1))
	location := f.source + "/" + key

	// The run has stored a newer version of the CTR and recorded the first;
	// it pauses here, and the erasure begins.
	v1 := f.storeVersion(t, "c-mid", t0, location)
	if res := f.record(t, v1); res.State.Final() {
		t.Fatalf("first version: %+v", res)
	}
	v2 := f.storeVersion(t, "c-mid", t0.Add(time.Minute), location)
	f.eraseInPostgres(t, "c-mid", false)

	t.Run("recording a version stored before the tombstone writes nothing and ends erased", func(t *testing.T) {
		if res := f.record(t, v2); res.State != conversation.Erased || len(res.ToCopy) != 0 {
			t.Fatalf("record: %+v", res)
		}
		c, _, err := f.acts.Conversations.Get(context.Background(), "acme", "c-mid")
		if err != nil || !c.LastUpdateTimestamp.Equal(v1.LastUpdateTimestamp) {
			t.Fatalf("the row moved on to the newer version: %+v, %v", c, err)
		}
	})

	// The erasure completes: the rows are gone, only the tombstone is left.
	f.eraseInPostgres(t, "c-mid", true)

	t.Run("the copy stores no object and no row", func(t *testing.T) {
		_, err := f.env.ExecuteActivity(f.acts.CopyRecording, activities.CopyRecordingInput{
			TenantID: "acme", ContactID: "c-mid", Location: location, Participant: "AGENT", MediaType: "AUDIO", Day: t0,
		})
		if errType(err) != activities.ErrTypeContactErased {
			t.Fatalf("copy: %v, want %s", err, activities.ErrTypeContactErased)
		}
		if n := f.objects(t); n != 0 {
			t.Fatalf("%d objects in the recording store", n)
		}
		if recs, err := f.acts.Conversations.Recordings(context.Background(), "acme", "c-mid"); err != nil || len(recs) != 0 {
			t.Fatalf("recordings %+v, %v", recs, err)
		}
	})

	t.Run("the analysis job is not sent", func(t *testing.T) {
		_, err := f.env.ExecuteActivity(f.acts.EnqueueAnalysis, activities.EnqueueAnalysisInput{TenantID: "acme", ContactID: "c-mid"})
		if errType(err) != activities.ErrTypeContactErased {
			t.Fatalf("enqueue: %v, want %s", err, activities.ErrTypeContactErased)
		}
		// A publish is confirmed before the activity returns: a job sent
		// would be in the queue now.
		if n := testenv.QueueDepth(t, f.analysis); n != 0 {
			t.Fatalf("%d messages on the analysis queue", n)
		}
	})

	t.Run("Postgres refuses a row of the contact, whoever writes it", func(t *testing.T) {
		ctx := context.Background()
		_, err := f.acts.Conversations.UpsertMetadata(ctx, store.Conversation{TenantID: "acme", ContactID: "c-mid",
			LastUpdateTimestamp: t0.Add(time.Hour), Channel: "VOICE", CTR: []byte(`{}`)})
		if !store.IsErased(err) {
			t.Fatalf("conversation upsert: %v", err)
		}
		err = f.acts.Conversations.UpsertRecording(ctx, store.Recording{TenantID: "acme", ContactID: "c-mid", SourceLocation: location,
			Participant: "AGENT", MediaType: "AUDIO"})
		if !store.IsErased(err) {
			t.Fatalf("recording upsert: %v", err)
		}
		stored, err := f.acts.CTRVersions.Put(ctx, conversation.NewCTRRef("acme", "c-mid", t0.Add(time.Hour), []byte(`{}`)), []byte(`{}`), "r", "", time.Time{})
		if err != nil || !stored.Erased {
			t.Fatalf("CTR version: %+v, %v", stored, err)
		}
	})
}

// TestRemoveEveryVersion removes a recording's copy from a versioned
// bucket: every version goes, and no delete marker is left naming it.
func TestRemoveEveryVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.store.EnableVersioning(ctx, f.acts.Bucket); err != nil {
		t.Fatal(err)
	}
	key := "connect/acme/CallRecordings/2026/11/24/c-1_versions.wav"
	f.put(t, key, testenv.WAV(1))
	res, err := f.copy(t, f.source+"/"+key)
	if err != nil {
		t.Fatal(err)
	}
	// A second version of the same key, as a re-copy in a versioned bucket
	// leaves.
	body := testenv.WAV(1)
	if _, err := f.store.PutObject(ctx, res.Bucket, res.Key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := f.objects(t); n != 2 {
		t.Fatalf("%d versions before, want 2", n)
	}
	_, err = f.env.ExecuteActivity(f.acts.RemoveDeletedRecordings, activities.RemoveDeletedRecordingsInput{
		TenantID: "acme", ContactID: "c-1", Recordings: []activities.RemovedRecording{{Location: f.source + "/" + key, Reason: "DELETED"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.objects(t); n != 0 {
		t.Fatalf("%d versions or delete markers left", n)
	}
}

// TestRemoveTenantObjects removes what a removed tenant left in MinIO,
// every version of it, and nothing of another tenant.
func TestRemoveTenantObjects(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.store.EnableVersioning(ctx, f.acts.Bucket); err != nil {
		t.Fatal(err)
	}
	body := testenv.WAV(1)
	for _, key := range []string{"acme/2026/11/24/c-1/a.wav", "acme/2026/11/24/c-1/a.wav", "acme/2026/11/25/orphan/b.wav", "acmeco/2026/11/24/c-9/c.wav"} {
		if _, err := f.store.PutObject(ctx, f.acts.Bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	val, err := f.env.ExecuteActivity(f.acts.RemoveTenantObjects, activities.RemoveTenantObjectsInput{TenantID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.RemoveTenantObjectsResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Removed != 3 {
		t.Errorf("removed %d versions, want 3", res.Removed)
	}
	if n := f.objects(t); n != 1 {
		t.Fatalf("%d versions left, want acmeco's one", n)
	}
}

// TestRemoveDeadLetters takes erased contacts' CTRs out of the dead-letter
// queue and leaves every other message there.
func TestRemoveDeadLetters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ctrQueue := testenv.Queues(t)
	conn := queue.Dial(testenv.Config(t).AMQPURL, queue.Topology{CTRQueue: ctrQueue}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { conn.Close() })
	if err := conn.WaitReady(testenv.WithTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	dead := queue.Topology{CTRQueue: ctrQueue}.DeadLetterName()
	f.acts.AMQP, f.acts.DeadLetterQueue = conn, dead
	err := f.acts.Publisher.PublishSeq(ctx, dead, slices.Values([]queue.Message{
		{ID: "acme/c-left/2026-11-24T09:00:00Z", Type: "ctr", Body: []byte(`{}`)},
		{ID: "acme/not-an-envelope", Type: "x", Body: []byte(`{"ContactId":"c-new"}`)},
		{ID: "acme/c-live/2026-11-24T09:00:00Z", Type: "ctr", Body: []byte(`{}`)},
		{ID: "acmeco/c-left/2026-11-24T09:00:00Z", Type: "ctr", Body: []byte(`{}`)},
	}))
	if err != nil {
		t.Fatal(err)
	}
	// c-left was erased before, and the sweep of its erasure failed.
	f.eraseInPostgres(t, "c-left", true)
	f.eraseInPostgres(t, "c-new", true)
	sweep := func(in activities.RemoveDeadLettersInput) int {
		t.Helper()
		val, err := f.env.ExecuteActivity(f.acts.RemoveDeadLetters, in)
		if err != nil {
			t.Fatal(err)
		}
		var res activities.RemoveDeadLettersResult
		if err := val.Get(&res); err != nil {
			t.Fatal(err)
		}
		return res.Removed
	}

	t.Run("a batch's sweep takes its contacts' messages and those an earlier sweep left", func(t *testing.T) {
		if n := sweep(activities.RemoveDeadLettersInput{TenantID: "acme", ContactIDs: []string{"c-new"}}); n != 2 {
			t.Fatalf("removed %d, want c-left's and c-new's", n)
		}
		if n := testenv.QueueDepth(t, dead); n != 2 {
			t.Fatalf("%d messages left, want the live contact's and the other tenant's", n)
		}
	})

	t.Run("a tenant's removal takes every message of the tenant, and no other tenant's", func(t *testing.T) {
		if n := sweep(activities.RemoveDeadLettersInput{TenantID: "acme", WholeTenant: true}); n != 1 {
			t.Fatalf("removed %d, want 1", n)
		}
		left := testenv.Drain(t, dead, 2)
		if len(left) != 1 || left[0].MessageId != "acmeco/c-left/2026-11-24T09:00:00Z" {
			t.Fatalf("left %d messages", len(left))
		}
	})
}
