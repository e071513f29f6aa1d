package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/internal/testkit/wav"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
)

// service is what an operator uses on the pipeline's conversations.
func (p *pipeline) service(t *testing.T) *operations.Service {
	return &operations.Service{
		Temporal: testenv.Temporal(t), Conversations: p.convs, CTRVersions: store.NewCTRVersions(p.pool), TaskQueue: p.taskQueue, WaitWindow: 2 * time.Minute,
		StuckAfter: time.Hour, StuckAttempts: 5,
	}
}

// copyAttempt is the attempt on which the latest run's CopyRecording
// started for the last time.
func copyAttempt(t *testing.T, svc *operations.Service, tenantID, contactID string) int32 {
	t.Helper()
	it := svc.Temporal.GetWorkflowHistory(t.Context(), workflows.ConversationWorkflowID(tenantID, contactID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var attempt int32
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if st := ev.GetActivityTaskStartedEventAttributes(); st != nil {
			attempt = st.GetAttempt()
		}
	}
	return attempt
}

func TestOperatorRetry(t *testing.T) {
	p := startPipeline(t)
	svc := p.service(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	bucket := p.tenant.RecordingBuckets[0]
	put := func(key string) {
		wav := testenv.WAV(1)
		if _, err := p.s3.PutObject(ctx, bucket, key, bytes.NewReader(wav), int64(len(wav)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a call whose recording has not arrived is stuck once it waits past the threshold", func(t *testing.T) {
		p.send(p.ctr("c-late", t0, bucket+"/late/c-late.wav"))
		p.waitState("c-late", conversation.WaitingRecording, time.Minute)
		svc.StuckAfter = time.Millisecond
		var found []operations.Call
		var err error
		// The visibility store indexes a new run a moment after it starts.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if found, err = svc.Find(ctx, operations.Filter{TenantID: p.tenant.ID, Stuck: true}); err != nil || len(found) > 0 {
				break
			}
		}
		svc.StuckAfter = time.Hour
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].ContactID != "c-late" || found[0].State() != conversation.WaitingRecording {
			t.Fatalf("stuck = %+v", found)
		}
		if none, err := svc.Find(ctx, operations.Filter{TenantID: p.tenant.ID, Stuck: true}); err != nil || len(none) != 0 {
			t.Fatalf("with an hour's threshold: %d stuck, %v; want none", len(none), err)
		}
	})

	t.Run("retry after the recording appears completes the call without waiting for its next look", func(t *testing.T) {
		put("late/c-late.wav")
		res, err := svc.Retry(ctx, p.tenant.ID, "c-late")
		if err != nil || res.Action != "woken" || res.ActivitiesReset != 1 {
			t.Fatalf("retry = %+v, %v; want the waiting copy reset", res, err)
		}
		p.waitState("c-late", conversation.Enqueued, time.Minute)
		// The run closes just after it marks the call enqueued.
		if err := svc.Temporal.GetWorkflow(ctx, workflows.ConversationWorkflowID(p.tenant.ID, "c-late"), "").Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		// The copy waits for a late recording in its own retries; the reset
		// ran it again at once, as attempt 1, instead of at its next look.
		if got := copyAttempt(t, svc, p.tenant.ID, "c-late"); got != 1 {
			t.Fatalf("the copy completed on attempt %d; the retry did not reset it", got)
		}
		if jobs := testenv.Drain(t, p.analysis, 1); len(jobs) != 1 {
			t.Fatalf("%d analysis jobs", len(jobs))
		}
	})

	t.Run("retry of a call that ended well is refused", func(t *testing.T) {
		if _, err := svc.Retry(ctx, p.tenant.ID, "c-late"); err == nil || !strings.Contains(err.Error(), "nothing to retry") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("retry of a terminated call runs it again from what is done, enqueueing once", func(t *testing.T) {
		p.send(p.ctr("c-term", t0, bucket+"/late/c-term.wav"))
		p.waitState("c-term", conversation.WaitingRecording, time.Minute)
		id := workflows.ConversationWorkflowID(p.tenant.ID, "c-term")
		if err := svc.Temporal.TerminateWorkflow(ctx, id, "", "operator test"); err != nil {
			t.Fatal(err)
		}
		// Temporal's visibility store indexes the termination a moment
		// later: look until it does.
		var failed []operations.Call
		var err error
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if failed, err = svc.Find(ctx, operations.Filter{TenantID: p.tenant.ID, Failed: true}); err != nil || len(failed) > 0 {
				break
			}
		}
		if err != nil || len(failed) != 1 || failed[0].ContactID != "c-term" || !strings.Contains(failed[0].Workflow.LastFailure, "operator test") {
			t.Fatalf("failed = %+v, %v", failed, err)
		}
		put("late/c-term.wav")
		res, err := svc.Retry(ctx, p.tenant.ID, "c-term")
		if err != nil || res.Action != "restarted" {
			t.Fatalf("retry = %+v, %v", res, err)
		}
		if err := svc.Temporal.GetWorkflow(ctx, id, res.RunID).Get(ctx, nil); err != nil {
			t.Fatalf("the restarted run: %v", err)
		}
		p.waitState("c-term", conversation.Enqueued, time.Minute)
		if jobs := testenv.Drain(t, p.analysis, 1); len(jobs) != 1 {
			t.Fatalf("%d analysis jobs", len(jobs))
		}
		// Retrying the restarted, finished call changes nothing.
		if _, err := svc.Retry(ctx, p.tenant.ID, "c-term"); err == nil {
			t.Fatal("a second retry was accepted")
		}
		if n := testenv.QueueDepth(t, p.analysis); n != 0 {
			t.Fatalf("%d more analysis jobs", n)
		}
	})
}

func TestOperatorCancelDuringCopy(t *testing.T) {
	// Recordings over 1 MiB are copied by the copy activity, which an
	// operator can watch and cancel while it runs.
	p := startPipelineWith(t, map[string]string{"WORKER_INLINE_COPY_MAX_BYTES": "1048576"})
	svc := p.service(t)
	ctx := t.Context()

	// A tenant whose S3 answers through a slow link, so that a 24 MiB
	// recording takes several seconds to copy.
	slow := testenv.NewProxy(t, "127.0.0.1:9100")
	slow.Throttle(4 << 20)
	tenant := p.tenant
	tenant.ID, tenant.AWSEndpointURL = "slow"+testenv.Suffix(), "http://"+slow.Addr()
	if _, err := store.NewTenants(p.pool).Create(ctx, tenant, accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	p.tenant = tenant
	bucket := tenant.RecordingBuckets[0]
	big := testenv.WAV(24 << 20 / (wav.Rate * 4)) // 24 MiB of Connect audio
	if _, err := p.s3.PutObject(ctx, bucket, "big/c-big.wav", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	p.send(p.ctr("c-big", time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC), bucket+"/big/c-big.wav"))

	// Wait until the copy is running.
	deadline := time.Now().Add(time.Minute)
	for {
		call, err := svc.Get(ctx, tenant.ID, "c-big")
		if err == nil && call.Workflow != nil {
			if tr := call.Workflow.Trouble(); tr != nil && tr.Type == "CopyRecording" && tr.State == "Started" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the copy never started: %+v, %v", call, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	res, err := svc.Cancel(ctx, tenant.ID, "c-big", "customer withdrew consent")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Wait(ctx, res); err != nil {
		t.Fatal(err)
	}

	t.Run("the conversation is cancelled with the reason, in Postgres and in Temporal", func(t *testing.T) {
		call, err := svc.Get(ctx, tenant.ID, "c-big")
		if err != nil {
			t.Fatal(err)
		}
		c := call.Conversation
		if c.State != conversation.Cancelled || c.StateDetail != "customer withdrew consent" || call.Workflow.Status != "Canceled" {
			t.Fatalf("state %s %q, workflow %s", c.State, c.StateDetail, call.Workflow.Status)
		}
	})

	t.Run("no object, whole or partial, is left in MinIO", func(t *testing.T) {
		store := testenv.RecordingStore(t)
		for obj := range store.ListObjects(ctx, p.recordings, minio.ListObjectsOptions{Prefix: tenant.ID + "/", Recursive: true}) {
			t.Errorf("object left behind: %s (%d bytes, %v)", obj.Key, obj.Size, obj.Err)
		}
		for up := range store.ListIncompleteUploads(ctx, p.recordings, tenant.ID+"/", true) {
			t.Errorf("unfinished upload left behind: %s (%v)", up.Key, up.Err)
		}
	})

	t.Run("no analysis job is enqueued", func(t *testing.T) {
		if n := testenv.QueueDepth(t, p.analysis); n != 0 {
			t.Fatalf("%d analysis jobs", n)
		}
	})

	t.Run("cancelling it again is refused: it is not running", func(t *testing.T) {
		if _, err := svc.Cancel(ctx, tenant.ID, "c-big", "again"); err == nil || !strings.Contains(err.Error(), "not running") {
			t.Fatalf("err = %v", err)
		}
	})
}
