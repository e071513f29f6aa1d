package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/minio/minio-go/v7"
	amqp "github.com/rabbitmq/amqp091-go"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/audio"
	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/jobschema"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// fixture is an Activities on a fresh database, buckets and analysis queue.
type fixture struct {
	acts     *activities.Activities
	env      *testsuite.TestActivityEnvironment
	s3       *minio.Client
	store    *minio.Client
	source   string // the tenant's recording bucket on the S3 stand-in
	analysis string
	// analysisJobs are the jobs an earlier step drained.
	analysisJobs []amqp.Delivery
	pool         *pgxpool.Pool
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	pool, _ := testenv.Database(t)
	s3 := testenv.S3StandIn(t)
	source := testenv.Bucket(t, s3, "acme-rec")
	rs := testenv.RecordingStore(t)
	dest := testenv.Bucket(t, rs, "recordings")
	analysis := testenv.Queues(t)
	cfg := testenv.Config(t)

	tenant := tenant.Tenant{
		ID: "acme", Name: "Acme", RecordingBuckets: []string{source}, AWSEndpointURL: "http://127.0.0.1:9100",
		InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/i-1",
	}
	if _, err := store.NewTenants(pool).Create(context.Background(), tenant, accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	convs := store.NewConversations(pool)
	if _, err := convs.UpsertMetadata(context.Background(), store.Conversation{
		TenantID: "acme", ContactID: "c-1", LastUpdateTimestamp: time.Now(), Channel: "VOICE", CTR: json.RawMessage(`{}`),
	}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	conn := queue.Dial(cfg.AMQPURL, queue.Topology{AnalysisQueue: analysis}, log)
	t.Cleanup(func() { conn.Close() })
	if err := conn.WaitReady(testenv.WithTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	pub := queue.NewPublisher(conn, 1)
	t.Cleanup(pub.Close)

	acts := &activities.Activities{
		Tenants: store.NewTenants(pool), Conversations: convs, Agents: store.NewAgents(pool), CTRVersions: store.NewCTRVersions(pool),
		Quarantine: store.NewQuarantine(pool), Erasures: store.NewErasures(pool),
		AWS:   &awsx.Clients{StandInAccessKey: cfg.Worker.StandInAccessKey, StandInSecretKey: cfg.Worker.StandInSecretKey},
		MinIO: rs, Bucket: dest, Publisher: pub, AnalysisQueue: analysis,
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(log))
	env := suite.NewTestActivityEnvironment()
	activities.Register(env, acts)
	return &fixture{acts: acts, env: env, s3: s3, store: rs, source: source, analysis: analysis, pool: pool}
}

func (f *fixture) put(t testing.TB, key string, body []byte) {
	t.Helper()
	if _, err := f.s3.PutObject(context.Background(), f.source, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) copy(t testing.TB, location string) (activities.CopyRecordingResult, error) {
	t.Helper()
	val, err := f.env.ExecuteActivity(f.acts.CopyRecording, activities.CopyRecordingInput{
		TenantID: "acme", ContactID: "c-1", Location: location, Participant: "AGENT", MediaType: "AUDIO",
		Day: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
	})
	if err != nil {
		return activities.CopyRecordingResult{}, err
	}
	var res activities.CopyRecordingResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func errType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

func TestCopyRecording(t *testing.T) {
	f := newFixture(t)
	wav := testenv.WAV(2)
	sum := sha256.Sum256(wav)
	key := "connect/acme/CallRecordings/2026/11/24/c-1_20261124T09:24_UTC.wav"
	f.put(t, key, wav)

	var first activities.CopyRecordingResult
	t.Run("streams the recording into MinIO and records its size and SHA-256", func(t *testing.T) {
		res, err := f.copy(t, f.source+"/"+key)
		if err != nil {
			t.Fatal(err)
		}
		first = res
		if res.SHA256 != hex.EncodeToString(sum[:]) || res.SizeBytes != int64(len(wav)) || res.Reused {
			t.Fatalf("result = %+v", res)
		}
		if res.Key != activities.ObjectKey("acme", "c-1", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), f.source+"/"+key) {
			t.Fatalf("key %q is not the deterministic key", res.Key)
		}
		obj, err := f.store.GetObject(context.Background(), res.Bucket, res.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(obj)
		if !bytes.Equal(got, wav) {
			t.Fatal("the stored object differs from the source")
		}
		_, recs, err := f.acts.Conversations.Get(context.Background(), "acme", "c-1")
		if err != nil || len(recs) != 1 || recs[0].SHA256 != res.SHA256 || recs[0].CopiedAt == nil {
			t.Fatalf("recording row = %+v, %v", recs, err)
		}
	})

	t.Run("a second attempt reuses the copy instead of copying again", func(t *testing.T) {
		res, err := f.copy(t, f.source+"/"+key)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Reused || res.Key != first.Key || res.SHA256 != first.SHA256 {
			t.Fatalf("result = %+v", res)
		}
	})

	t.Run("a recording not in S3 yet fails as RecordingNotFound, not retryable", func(t *testing.T) {
		_, err := f.copy(t, f.source+"/connect/acme/missing.wav")
		if errType(err) != activities.ErrTypeRecordingNotFound {
			t.Fatalf("err = %v, want type %s", err, activities.ErrTypeRecordingNotFound)
		}
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && !ae.NonRetryable() {
			t.Fatal("RecordingNotFound is retryable; the workflow must do the waiting")
		}
	})

	t.Run("a bucket outside the tenant's list fails as RecordingLocationNotAllowed", func(t *testing.T) {
		for _, loc := range []string{"other-bucket/" + key, "s3://" + f.source + "/" + key, f.source + "/../x.wav"} {
			if _, err := f.copy(t, loc); errType(err) != activities.ErrTypeLocationNotAllowed {
				t.Fatalf("%s: err = %v, want type %s", loc, err, activities.ErrTypeLocationNotAllowed)
			}
		}
	})

	t.Run("a recording larger than one part is copied in parts, byte for byte", func(t *testing.T) {
		big := bytes.Repeat(testenv.WAV(1), 1300) // about 20 MiB
		bigSum := sha256.Sum256(big)
		f.put(t, "connect/acme/big.wav", big)
		res, err := f.copy(t, f.source+"/connect/acme/big.wav")
		if err != nil {
			t.Fatal(err)
		}
		if res.SizeBytes != int64(len(big)) || res.SHA256 != hex.EncodeToString(bigSum[:]) {
			t.Fatalf("result = %+v", res)
		}
	})
}

func TestEnqueueAnalysis(t *testing.T) {
	f := newFixture(t)
	f.put(t, "k.wav", testenv.WAV(1))
	if _, err := f.copy(t, f.source+"/k.wav"); err != nil {
		t.Fatal(err)
	}
	enqueue := func() activities.EnqueueAnalysisResult {
		val, err := f.env.ExecuteActivity(f.acts.EnqueueAnalysis, activities.EnqueueAnalysisInput{TenantID: "acme", ContactID: "c-1"})
		if err != nil {
			t.Fatal(err)
		}
		var res activities.EnqueueAnalysisResult
		if err := val.Get(&res); err != nil {
			t.Fatal(err)
		}
		return res
	}

	jobOf := func(d amqp.Delivery) activities.AnalysisJob {
		var job activities.AnalysisJob
		if err := json.Unmarshal(d.Body, &job); err != nil {
			t.Fatal(err)
		}
		return job
	}

	t.Run("publishes one confirmed job naming the recording objects", func(t *testing.T) {
		if !enqueue().Enqueued {
			t.Fatal("first enqueue did not enqueue")
		}
		if again := enqueue(); again.Enqueued {
			t.Fatal("a repeated enqueue enqueued again")
		}
		jobs := testenv.Drain(t, f.analysis, 5)
		if len(jobs) != 1 {
			t.Fatalf("got %d jobs, want 1", len(jobs))
		}
		job := jobOf(jobs[0])
		if len(job.Recordings) != 1 || job.Recordings[0].Bucket != f.acts.Bucket || job.Recordings[0].SHA256 == "" {
			t.Fatalf("job = %+v", job)
		}
		jobschema.Validate(t, jobschema.AnalysisJob, jobs[0].Body)
		f.analysisJobs = jobs
	})

	t.Run("the job says what the recording holds and who speaks on which channel", func(t *testing.T) {
		job := jobOf(f.analysisJobs[0])
		a := job.Recordings[0].Audio
		if job.JobVersion != activities.AnalysisJobVersion || a == nil || a.Codec != "pcm_s16le" || a.SampleRateHz != 8000 ||
			a.Channels != 2 || a.DurationMillis != 1000 {
			t.Fatalf("job version %d, audio %+v", job.JobVersion, a)
		}
		roles := a.ChannelRoles
		if len(roles) != 2 || roles[0].Position != "left" || roles[0].Role != audio.RoleIncoming ||
			roles[1].Position != "right" || roles[1].Role != audio.RoleAgent || roles[0].Silent == nil || *roles[0].Silent {
			t.Errorf("channel roles %+v: want the agent right and everything incoming left, both heard", roles)
		}
	})

	t.Run("enqueues again, under a new message ID, once a different recording is copied", func(t *testing.T) {
		f.put(t, "k2.wav", testenv.WAV(1))
		if _, err := f.copy(t, f.source+"/k2.wav"); err != nil {
			t.Fatal(err)
		}
		if !enqueue().Enqueued {
			t.Fatal("a changed recording set was not enqueued")
		}
		jobs := testenv.Drain(t, f.analysis, 5)
		if len(jobs) != 1 || jobs[0].MessageId == f.analysisJobs[0].MessageId {
			t.Fatalf("got %d jobs; the re-analysis must carry a new message ID", len(jobs))
		}
		if job := jobOf(jobs[0]); len(job.Recordings) != 2 {
			t.Fatalf("re-analysis job names %d recordings, want 2", len(job.Recordings))
		}
		jobschema.Validate(t, jobschema.AnalysisJob, jobs[0].Body)
	})
}

// Publisher is satisfied by queue.Publisher.
var _ activities.Publisher = (*queue.Publisher)(nil)

func TestNormalizeCTR(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.pool.Exec(ctx, `INSERT INTO agents (tenant_id, user_id, username) VALUES ('acme', 'u-42', 'jdoe')`); err != nil {
		t.Fatal(err)
	}
	fetch := func(raw string) (activities.NormalizeCTRResult, error) {
		val, err := f.env.ExecuteActivity(f.acts.NormalizeCTR, activities.NormalizeCTRInput{TenantID: "acme", CTR: json.RawMessage(raw)})
		if err != nil {
			return activities.NormalizeCTRResult{}, err
		}
		var res activities.NormalizeCTRResult
		return res, val.Get(&res)
	}

	t.Run("links the agent to the synced agent by the user ID in its ARN", func(t *testing.T) {
		res, err := fetch(`{"ContactId":"c-9","LastUpdateTimestamp":"2026-11-24T09:00:00Z","Channel":"VOICE",
			"Agent":{"ARN":"arn:aws:connect:eu-west-2:1:instance/i-1/agent/u-42"}}`)
		if err != nil {
			t.Fatal(err)
		}
		if res.Conversation.AgentUserID != "u-42" || res.Conversation.AgentUsername != "jdoe" {
			t.Fatalf("agent = %q %q", res.Conversation.AgentUserID, res.Conversation.AgentUsername)
		}
	})

	t.Run("an agent not synced yet keeps what the CTR says", func(t *testing.T) {
		res, err := fetch(`{"ContactId":"c-9","LastUpdateTimestamp":"2026-11-24T09:00:00Z",
			"Agent":{"ARN":"arn:aws:connect:eu-west-2:1:instance/i-1/agent/u-new","Username":"new.hire"}}`)
		if err != nil || res.Conversation.AgentUsername != "new.hire" {
			t.Fatalf("got %+v, %v", res.Conversation, err)
		}
	})

	t.Run("a CTR that does not decode is MalformedCTR", func(t *testing.T) {
		if _, err := fetch(`{"ContactId":"c-9"}`); errType(err) != activities.ErrTypeMalformedCTR {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("a run that scheduled it as FetchMetadata, before the rename, still runs it", func(t *testing.T) {
		val, err := f.env.ExecuteActivity(activities.LegacyNormalizeCTRName, activities.NormalizeCTRInput{TenantID: "acme",
			CTR: json.RawMessage(`{"ContactId":"c-9","LastUpdateTimestamp":"2026-11-24T09:00:00Z","Agent":{"ARN":"arn:aws:connect:eu-west-2:1:instance/i-1/agent/u-42"}}`)})
		if err != nil {
			t.Fatal(err)
		}
		var res activities.NormalizeCTRResult
		if err := val.Get(&res); err != nil || res.Conversation.AgentUsername != "jdoe" {
			t.Fatalf("got %+v, %v", res.Conversation, err)
		}
	})
}
