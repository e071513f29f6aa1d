package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/minio/minio-go/v7"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/ingest"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/workflows"
)

// pipeline is a running worker on its own queues, task queue, buckets and
// tenant, fed through the gateway's own ingest path.
type pipeline struct {
	t        *testing.T
	convs    *store.Conversations
	health   string // the worker's health and metrics listener
	sent     int    // CTRs sent so far
	tenant   tenant.Tenant
	s3       *minio.Client
	analysis string
	ingester *ingest.Ingester
	// For operator actions on the pipeline's conversations.
	pool       *pgxpool.Pool
	taskQueue  string
	recordings string
	admin      string // the worker's admin API
}

func startPipeline(t *testing.T) *pipeline {
	t.Helper()
	return startPipelineWith(t, nil)
}

// startPipelineWith starts the pipeline with env over its own settings.
func startPipelineWith(t *testing.T, env map[string]string) *pipeline {
	t.Helper()
	pool, dsn := testenv.Database(t)
	s3 := testenv.S3StandIn(t)
	recBucket := testenv.Bucket(t, s3, "acme-rec")
	recordings := testenv.Bucket(t, testenv.RecordingStore(t), "recordings")
	ctrQueue := testenv.Queues(t)
	analysis := ctrQueue + ".analysis"
	tenant := storeTenant(t, pool, recBucket)

	health, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
	taskQueue := "test-" + testenv.Suffix()
	vars := map[string]string{
		"DATABASE_URL":          dsn,
		"AMQP_CTR_QUEUE":        ctrQueue,
		"AMQP_ANALYSIS_QUEUE":   analysis,
		"TEMPORAL_TASK_QUEUE":   taskQueue,
		"MINIO_BUCKET":          recordings,
		"WORKER_HEALTH_ADDR":    health,
		"WORKER_ADMIN_ADDR":     admin,
		"WORKER_ADMIN_TOKEN":    "pipeline-admin-token",
		"RECORDING_WAIT_WINDOW": "2m",
	}
	maps.Copy(vars, env)
	getenv := testenv.Getenv(vars)
	testenv.StartProgram(t, func(ctx context.Context) error { return run(ctx, getenv, io.Discard) })
	testenv.DeleteQueueAtEnd(t, analysis)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	conn := queue.Dial(testenv.Config(t).AMQPURL, queue.Topology{CTRQueue: ctrQueue, AnalysisQueue: analysis}, log)
	t.Cleanup(func() { conn.Close() })
	if err := conn.WaitReady(testenv.WithTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	pub := queue.NewPublisher(conn, 1)
	t.Cleanup(pub.Close)
	return &pipeline{
		t: t, convs: store.NewConversations(pool), health: health, tenant: tenant, s3: s3, analysis: analysis,
		ingester: &ingest.Ingester{Publisher: pub, Quarantine: store.NewQuarantine(pool), Queue: ctrQueue},
		pool:     pool, taskQueue: taskQueue, recordings: recordings, admin: admin,
	}
}

// send ingests CTRs exactly as the gateway does for a Firehose delivery.
func (p *pipeline) send(records ...[]byte) {
	p.t.Helper()
	recs := make([]firehose.Record, len(records))
	for i, r := range records {
		recs[i] = firehose.Record{Data: b64(r)}
	}
	_, err := p.ingester.Ingest(context.Background(), ingest.Batch{Tenant: p.tenant, RequestID: "req-" + testenv.Suffix(), Records: recs})
	if err != nil {
		p.t.Fatal(err)
	}
	p.sent += len(records)
}

// waitState polls Postgres until the conversation reaches state.
func (p *pipeline) waitState(contactID string, state conversation.State, within time.Duration) store.Conversation {
	p.t.Helper()
	deadline := time.Now().Add(within)
	last := "not stored"
	for time.Now().Before(deadline) {
		c, _, err := p.convs.Get(context.Background(), p.tenant.ID, contactID)
		if err == nil {
			if c.State == state {
				return c
			}
			last = string(c.State) + " " + c.StateDetail
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.t.Fatalf("conversation %s did not reach %s within %v; last: %s", contactID, state, within, last)
	return store.Conversation{}
}

func (p *pipeline) ctr(contactID string, lu time.Time, recording string) []byte {
	return ctrtest.Sample(ctrtest.Options{ContactID: contactID, InstanceARN: p.tenant.InstanceARN, LastUpdate: lu, AgentUsername: "jdoe", RecordingLocation: recording})
}

func TestPipeline(t *testing.T) {
	p := startPipeline(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	bucket := p.tenant.RecordingBuckets[0]

	wav := testenv.WAV(3)
	sum := sha256.Sum256(wav)
	key := "connect/acme/CallRecordings/2026/11/24/c-voice_20261124T09:24_UTC.wav"
	if _, err := p.s3.PutObject(ctx, bucket, key, bytes.NewReader(wav), int64(len(wav)), minio.PutObjectOptions{ContentType: "audio/wav"}); err != nil {
		t.Fatal(err)
	}

	t.Run("a voice call ends enqueued with its recording copied and verified", func(t *testing.T) {
		p.send(p.ctr("c-voice", t0, bucket+"/"+key))
		c := p.waitState("c-voice", conversation.Enqueued, time.Minute)
		if c.AgentUsername != "jdoe" || c.Channel != "VOICE" || c.AnalysisEnqueuedAt == nil {
			t.Fatalf("conversation = %+v", c)
		}
		_, recs, err := p.convs.Get(ctx, p.tenant.ID, "c-voice")
		if err != nil || len(recs) != 1 {
			t.Fatalf("recordings = %+v, %v", recs, err)
		}
		r := recs[0]
		if r.SHA256 != hex.EncodeToString(sum[:]) || *r.SizeBytes != int64(len(wav)) {
			t.Fatalf("recording = %+v, want sha256 %x size %d", r, sum, len(wav))
		}
		obj, err := testenv.RecordingStore(t).GetObject(ctx, r.ObjectBucket, r.ObjectKey, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		if err != nil || !bytes.Equal(got, wav) {
			t.Fatalf("MinIO object differs from the source (%d bytes, %v)", len(got), err)
		}
	})

	t.Run("the Temporal UI finds it by tenant, state, agent and channel", func(t *testing.T) {
		tc, err := temporalx.Dial(ctx, testenv.Config(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		query := fmt.Sprintf("TenantId = '%s' AND ContactId = 'c-voice' AND ConversationState = 'enqueued' AND AgentUsername = 'jdoe' AND Channel = 'VOICE'", p.tenant.ID)
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.GetExecutions()) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("visibility query %q found %d workflows, want 1", query, len(resp.GetExecutions()))
			}
			time.Sleep(300 * time.Millisecond)
		}
	})

	t.Run("the same CTR again and an older version change nothing and enqueue nothing more", func(t *testing.T) {
		p.send(p.ctr("c-voice", t0, bucket+"/"+key), p.ctr("c-voice", t0.Add(-time.Minute), bucket+"/"+key))
		testenv.WaitSettled(t, p.health, p.sent, p.tenant.ID)
		c := p.waitState("c-voice", conversation.Enqueued, time.Minute)
		if !c.LastUpdateTimestamp.Equal(t0) {
			t.Fatalf("stored version %v, want %v", c.LastUpdateTimestamp, t0)
		}
		jobs := testenv.Drain(t, p.analysis, 10)
		if len(jobs) != 1 {
			t.Fatalf("analysis queue holds %d jobs, want exactly 1", len(jobs))
		}
		var job activities.AnalysisJob
		if err := json.Unmarshal(jobs[0].Body, &job); err != nil {
			t.Fatal(err)
		}
		if job.ContactID != "c-voice" || len(job.Recordings) != 1 || job.Recordings[0].SHA256 != hex.EncodeToString(sum[:]) ||
			jobs[0].MessageId != activities.AnalysisMessageID(p.tenant.ID, "c-voice", activities.Fingerprint([]string{bucket + "/" + key})) {
			t.Fatalf("job = %+v (id %s)", job, jobs[0].MessageId)
		}
	})

	t.Run("an update that lists another recording instead copies it, removes the one no longer listed and enqueues once more", func(t *testing.T) {
		key2 := "connect/acme/CallRecordings/2026/11/24/c-voice_20261124T09:24_UTC_redacted.wav"
		if _, err := p.s3.PutObject(ctx, bucket, key2, bytes.NewReader(wav), int64(len(wav)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		p.send(p.ctr("c-voice", t0.Add(time.Hour), bucket+"/"+key2))
		deadline := time.Now().Add(time.Minute)
		var msgs []amqp.Delivery
		for len(msgs) < 2 && time.Now().Before(deadline) {
			msgs = append(msgs, testenv.Drain(t, p.analysis, 2-len(msgs))...)
		}
		if len(msgs) != 2 || msgs[0].Type != activities.RetractionType || msgs[1].Type != activities.AnalysisJobType {
			t.Fatalf("got %d messages, want a retraction of the first recording, then a job", len(msgs))
		}
		var r activities.Retraction
		if err := json.Unmarshal(msgs[0].Body, &r); err != nil || len(r.Recordings) != 1 || r.WholeConversation ||
			r.Reason != activities.RetractRecordingDeleted || r.Recordings[0].DeletionReason != "no longer listed in the contact's CTR" {
			t.Fatalf("retraction %+v, %v", r, err)
		}
		if id := activities.AnalysisMessageID(p.tenant.ID, "c-voice", activities.Fingerprint([]string{bucket + "/" + key2})); msgs[1].MessageId != id {
			t.Fatalf("job %s, want %s: the one recording still listed", msgs[1].MessageId, id)
		}
		_, recs, err := p.convs.Get(ctx, p.tenant.ID, "c-voice")
		if err != nil || len(recs) != 2 {
			t.Fatalf("recordings = %d, %v", len(recs), err)
		}
		for _, rec := range recs {
			if deleted := rec.SourceLocation == bucket+"/"+key; deleted != (rec.DeletedAt != nil) || rec.Held() == deleted {
				t.Errorf("%s: deleted at %v, held %v", rec.SourceLocation, rec.DeletedAt, rec.Held())
			}
		}
	})

	t.Run("a 3,000-character agent name and a CTR of escaping-heavy attributes near Firehose's record limit end enqueued", func(t *testing.T) {
		long := strings.Repeat("é", 1500)                                   // 3,000 bytes: past the server's limit for a keyword search attribute
		attrs := map[string]string{"notes": strings.Repeat("<&>", 300_000)} // 900 kB, six times that once JSON-escaped
		raw := ctrtest.Sample(ctrtest.Options{ContactID: "c-huge", InstanceARN: p.tenant.InstanceARN, LastUpdate: t0,
			AgentUsername: long, RecordingLocation: bucket + "/" + key, Attributes: attrs})
		// Connect writes < & > as they are; Go's encoder escaped them.
		raw = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw)))
		if len(raw) > firehose.MaxRecordBytes {
			t.Fatalf("the record is %d bytes, over Firehose's limit", len(raw))
		}
		p.send(raw)
		c := p.waitState("c-huge", conversation.Enqueued, time.Minute)
		if c.AgentUsername != long || len(c.Attributes["notes"]) != 900_000 {
			t.Fatalf("stored agent of %d bytes, notes of %d", len(c.AgentUsername), len(c.Attributes["notes"]))
		}
		desc, err := testenv.Temporal(t).DescribeWorkflowExecution(ctx, workflows.ConversationWorkflowID(p.tenant.ID, "c-huge"), "")
		if err != nil {
			t.Fatal(err)
		}
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			t.Fatalf("workflow %s, want completed", st)
		}
		var agent string
		if err := converter.GetDefaultDataConverter().FromPayload(desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["AgentUsername"], &agent); err != nil {
			t.Fatal(err)
		}
		if len(agent) == 0 || len(agent) > 256 || !strings.HasPrefix(long, agent) {
			t.Fatalf("AgentUsername search attribute of %d bytes", len(agent))
		}
		testenv.Drain(t, p.analysis, 1)
	})

	t.Run("a chat contact is stored as no_recording and not enqueued", func(t *testing.T) {
		chat := bytes.Replace(p.ctr("c-chat", t0, ""), []byte(`"Channel":"VOICE"`), []byte(`"Channel":"CHAT"`), 1)
		p.send(chat)
		c := p.waitState("c-chat", conversation.NoRecording, time.Minute)
		if c.StateDetail == "" {
			t.Fatal("no_recording without a reason")
		}
		if jobs := testenv.Drain(t, p.analysis, 1); len(jobs) != 0 {
			t.Fatalf("a chat contact was enqueued for analysis")
		}
	})

	t.Run("a recording outside the tenant's buckets is rejected", func(t *testing.T) {
		p.send(p.ctr("c-foreign", t0, "someone-elses-bucket/"+key))
		c := p.waitState("c-foreign", conversation.Rejected, time.Minute)
		if c.AnalysisEnqueuedAt != nil {
			t.Fatal("a rejected conversation was enqueued")
		}
	})

	t.Run("a late recording is waited for and copied once it lands", func(t *testing.T) {
		lateKey := "connect/acme/CallRecordings/2026/11/24/c-late_20261124T09:25_UTC.wav"
		p.send(p.ctr("c-late", t0, bucket+"/"+lateKey))
		p.waitState("c-late", conversation.WaitingRecording, time.Minute)
		if _, err := p.s3.PutObject(ctx, bucket, lateKey, bytes.NewReader(wav), int64(len(wav)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		p.waitState("c-late", conversation.Enqueued, time.Minute)
		if jobs := testenv.Drain(t, p.analysis, 2); len(jobs) != 1 {
			t.Fatalf("got %d analysis jobs for the late call, want 1", len(jobs))
		}
	})

	t.Run("a recording Connect deletes in a later CTR is removed from MinIO and retracted", func(t *testing.T) {
		delKey := "connect/acme/CallRecordings/2026/11/24/c-deleted_20261124T09:26_UTC.wav"
		if _, err := p.s3.PutObject(ctx, bucket, delKey, bytes.NewReader(wav), int64(len(wav)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		p.send(p.ctr("c-deleted", t0, bucket+"/"+delKey))
		p.waitState("c-deleted", conversation.Enqueued, time.Minute)
		if jobs := testenv.Drain(t, p.analysis, 1); len(jobs) != 1 {
			t.Fatalf("got %d analysis jobs, want 1", len(jobs))
		}
		_, recs, err := p.convs.Get(ctx, p.tenant.ID, "c-deleted")
		if err != nil || len(recs) != 1 {
			t.Fatalf("recordings %v, %v", recs, err)
		}
		// The first run is a plain voice call, recorded before the
		// deletion starts a second.
		first := testenv.Temporal(t).GetWorkflow(ctx, workflows.ConversationWorkflowID(p.tenant.ID, "c-deleted"), "")
		if err := first.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
		testenv.SaveHistory(t, testenv.Temporal(t), first.GetID(), first.GetRunID(), "conversation_v4_voice.json")
		p.send(ctrtest.Sample(ctrtest.Options{ContactID: "c-deleted", InstanceARN: p.tenant.InstanceARN, LastUpdate: t0.Add(time.Hour),
			AgentUsername: "jdoe", RecordingLocation: bucket + "/" + delKey, RecordingStatus: "DELETED", DeletionReason: "SUPERVISOR_REQUEST"}))
		c := p.waitState("c-deleted", conversation.NoRecording, time.Minute)
		if c.StateDetail != "recording deleted: SUPERVISOR_REQUEST" {
			t.Errorf("state detail %q", c.StateDetail)
		}
		rs := testenv.RecordingStore(t)
		if _, err := rs.StatObject(ctx, p.recordings, recs[0].ObjectKey, minio.StatObjectOptions{}); minio.ToErrorResponse(err).StatusCode != 404 {
			t.Errorf("the copy is still in MinIO: %v", err)
		}
		msgs := testenv.Drain(t, p.analysis, 2)
		if len(msgs) != 1 || msgs[0].Type != activities.RetractionType {
			t.Fatalf("got %d messages, want one retraction", len(msgs))
		}
	})

	t.Run("an operator erases a call through the admin API, with the erase role", func(t *testing.T) {
		p.send(p.ctr("c-erased", t0, ""))
		p.waitState("c-erased", conversation.NoRecording, time.Minute)
		url := "http://" + p.admin + "/v1/calls/" + p.tenant.ID + "/c-erased/erase"
		post := func(body string) int {
			req, _ := http.NewRequest("POST", url, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer pipeline-admin-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := post(`{}`); got != 400 {
			t.Fatalf("an erase without a reason: %d, want 400", got)
		}
		if got := post(`{"reason":"customer asked"}`); got != 202 {
			t.Fatalf("erase: %d, want 202", got)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			var erased bool
			err := p.pool.QueryRow(ctx, `SELECT erased_at IS NOT NULL FROM erasures WHERE tenant_id = $1 AND contact_id = 'c-erased'
				AND requested_by = 'operator:bootstrap' AND reason = 'customer asked'`, p.tenant.ID).Scan(&erased)
			if err == nil && erased {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not erased within a minute (%v)", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if _, _, err := p.convs.Get(ctx, p.tenant.ID, "c-erased"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the conversation row is still there: %v", err)
		}
		testenv.SaveHistory(t, testenv.Temporal(t), workflows.EraseWorkflowID(p.tenant.ID, "c-erased"), "", "erase_no_recording.json")
	})

	// c-voice's last run is the re-analysis of its changed recording. The
	// earlier versions' histories (conversation_*.json without a version
	// prefix for the first, recorded before and after the normalize-ctr
	// rename; conversation_v2_*.json and conversation_v3_*.json) are kept as
	// they are: the replay test holds every generation.
	saveHistories(t, p.tenant.ID, map[string]string{
		"c-voice":   "conversation_v4_voice_reanalysis.json",
		"c-chat":    "conversation_v4_chat_no_recording.json",
		"c-foreign": "conversation_v4_foreign_bucket_rejected.json",
		"c-late":    "conversation_v4_late_recording.json",
		"c-deleted": "conversation_v4_recording_deleted.json",
	})
}
