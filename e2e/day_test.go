package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/jobschema"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// analysable are the connectsim kinds whose contacts have audio, or a chat
// transcript, to analyse.
var analysable = map[string]bool{"inbound": true, "outbound": true, "transfer": true, "late": true, "resent": true, "chat": true}

// wantState is the state a contact of a connectsim kind ends in.
func wantState(kind string) conversation.State {
	switch {
	case analysable[kind]:
		return conversation.Enqueued
	case kind == "empty":
		return conversation.RecordingEmpty
	}
	return conversation.NoRecording
}

func TestDayOfCalls(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	tn := newTenant(testenv.Bucket(t, testenv.S3StandIn(t), "e2e-rec"))
	tenant := tn.ID
	s.serveConnect(&tn)
	s.addTenant(tn)
	// Failover is under way: a Global Resiliency replica, named on the
	// tenant, takes a share of the day's contacts.
	replica := strings.Replace(tn.InstanceARN, "eu-west-2", "eu-central-1", 1)
	s.run("ingestctl", "tenants", "instances", "add", tenant, "--instance-arn", replica, "--replica-of", tn.InstanceARN,
		"--recording-bucket", tn.Bucket)

	logPath := filepath.Join(t.TempDir(), "sent.jsonl")
	day := []string{"day", "--count", "60", "--seed", "14", "--gateway", "http://" + s.gateway + "/firehose",
		"--access-key", tn.AccessKey, "--instance-arn", tn.InstanceARN, "--replica-arn", replica, "--replica-share", "0.3",
		"--bucket", tn.Bucket, "--batch", "25", "--late-delay", "5s", "--audio-seconds", "2", "--quiet", "--agent-events"}
	s.run("connectsim", append(day, "--log", logPath)...)

	kinds, sums := map[string]string{}, map[string]string{}
	sentLog := readLog(t, logPath)
	for _, r := range sentLog {
		kinds[r.ContactID] = r.Kind
		if r.RecordingSHA256 != "" {
			sums[r.ContactID] = r.RecordingSHA256
		}
	}
	s.waitSettled(tenant, len(kinds), 3*time.Minute)
	convs := store.NewConversations(s.pool)
	rs := testenv.RecordingStore(t)

	enqueued := map[string]bool{}
	t.Run("every call ends as its kind says: analysable ones enqueued with a verified copy, empty ones recording_empty, others no_recording", func(t *testing.T) {
		seen := map[string]int{}
		for id, kind := range kinds {
			c, recs, err := convs.Get(ctx, tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			seen[kind]++
			if !analysable[kind] {
				if c.State != wantState(kind) || len(recs) != 0 || c.AnalysisEnqueuedAt != nil {
					t.Errorf("%s %s: state %s %s, %d recordings", kind, id, c.State, c.StateDetail, len(recs))
				}
				continue
			}
			if c.State != conversation.Enqueued || c.AnalysisEnqueuedAt == nil || len(recs) != 1 {
				t.Errorf("%s %s: state %s %s, %d recordings", kind, id, c.State, c.StateDetail, len(recs))
				continue
			}
			enqueued[id] = true
			if recs[0].SHA256 != sums[id] {
				t.Errorf("%s %s: stored sha256 %s, connectsim wrote %s", kind, id, recs[0].SHA256, sums[id])
			}
			obj, err := rs.GetObject(ctx, recs[0].ObjectBucket, recs[0].ObjectKey, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			if _, err := io.Copy(h, obj); err != nil {
				t.Fatalf("%s: read %s: %v", id, recs[0].ObjectKey, err)
			}
			if hex.EncodeToString(h.Sum(nil)) != sums[id] {
				t.Errorf("%s %s: the MinIO object's sha256 differs from the source", kind, id)
			}
		}
		for _, kind := range []string{"chat", "chat_untranscribed", "empty"} {
			if seen[kind] == 0 {
				t.Errorf("the day has no %s contact; pick another seed or count", kind)
			}
		}
	})

	t.Run("the replica's contacts are the tenant's: stored and finished like the primary's", func(t *testing.T) {
		var fromReplica int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE tenant_id = $1 AND ctr->>'InstanceARN' = $2`,
			tenant, replica).Scan(&fromReplica); err != nil {
			t.Fatal(err)
		}
		if fromReplica == 0 {
			t.Fatal("no contact came from the replica")
		}
	})

	t.Run("a re-sent call keeps its newest version", func(t *testing.T) {
		found := false
		for id, kind := range kinds {
			if kind != "resent" {
				continue
			}
			found = true
			c, _, err := convs.Get(ctx, tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Attributes["wrapup_code"] != "resolved" {
				t.Errorf("resent %s stored an older version: %v", id, c.Attributes)
			}
		}
		if !found {
			t.Fatal("the day has no re-sent call; pick another seed")
		}
	})

	t.Run("each analysable call has exactly one analysis job, of its kind's type and schema", func(t *testing.T) {
		jobs := testenv.Drain(t, s.analysis, 10*len(kinds))
		counts := jobCounts(t, jobs)
		for _, d := range jobs {
			var job struct {
				ContactID  string            `json:"contactId"`
				Recordings []json.RawMessage `json:"recordings"`
			}
			if err := json.Unmarshal(d.Body, &job); err != nil {
				t.Fatal(err)
			}
			switch kind := kinds[job.ContactID]; {
			case kind == "chat" && d.Type == activities.ChatAnalysisJobType:
				jobschema.Validate(t, jobschema.ChatJob, d.Body)
			case kind != "chat" && d.Type == activities.AnalysisJobType:
				jobschema.Validate(t, jobschema.AnalysisJob, d.Body)
				if !strings.Contains(string(d.Body), `"role":"agent"`) {
					t.Errorf("%s %s: the job names no agent channel: %s", kind, job.ContactID, d.Body)
				}
			default:
				t.Errorf("%s %s: job of type %q", kind, job.ContactID, d.Type)
			}
		}
		for id := range enqueued {
			if counts[id] != 1 {
				t.Errorf("%s: %d analysis jobs, want 1", id, counts[id])
			}
		}
		if len(jobs) != len(enqueued) {
			t.Errorf("%d analysis jobs for %d analysable calls", len(jobs), len(enqueued))
		}
	})

	t.Run("the tenant's agent sync ran, and every call with an agent links to the synced agent", func(t *testing.T) {
		agents, err := store.NewAgents(s.pool).List(ctx, tenant)
		if err != nil || len(agents) != 50 {
			t.Fatalf("%d agents synced from the stand-in, %v; want 50", len(agents), err)
		}
		linked := 0
		for id := range kinds {
			c, _, err := convs.Get(ctx, tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.AgentUserID == "" {
				continue
			}
			if c.Agent == nil || c.Agent.Username != c.AgentUsername || !c.Agent.Active {
				t.Errorf("%s: agent %s (%s) links to %+v", id, c.AgentUsername, c.AgentUserID, c.Agent)
			}
			linked++
		}
		if linked == 0 {
			t.Fatal("no call had an agent")
		}
	})

	t.Run("the whole day delivered again doubles nothing", func(t *testing.T) {
		s.run("connectsim", day...)
		// The same seed sends the same CTRs again: wait until the worker has
		// handed every one of both days to Temporal and the runs are done.
		testenv.WaitSettled(t, s.health, 2*len(sentLog), tenant)
		s.waitSettled(tenant, len(kinds), time.Minute)
		if jobs := testenv.Drain(t, s.analysis, 10); len(jobs) != 0 {
			t.Fatalf("a re-delivered day enqueued %d more analysis jobs", len(jobs))
		}
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM recordings WHERE tenant_id = $1`, tenant).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(enqueued) {
			t.Fatalf("%d recording rows for %d analysable calls", n, len(enqueued))
		}
	})

	t.Run("the agent events on the stream are counted, never quarantined, and the agents keep their last state", func(t *testing.T) {
		if n := s.count(`SELECT count(*) FROM rejected_records WHERE tenant_id = $1`, tenant); n != 0 {
			t.Fatalf("%d records quarantined", n)
		}
		// The second delivery of the day came after the agent sync: its
		// events found the agents' rows. Each of the day's six agents
		// logged out last.
		if n := s.count(`SELECT count(*) FROM agents WHERE tenant_id = $1 AND status = 'Offline' AND status_type = 'OFFLINE'
			AND last_logout_at > last_login_at`, tenant); n != 6 {
			t.Errorf("%d agents ended the day logged out, want the day's 6", n)
		}
		body := testenv.WaitHTTP(t, "http://"+s.admin+"/metrics", 200)
		if want := fmt.Sprintf(`gateway_agent_events_total{event_type="LOGOUT",tenant_id=%q} 12`, tenant); !strings.Contains(body, want) {
			t.Errorf("gateway metrics lack %s", want)
		}
	})
}

func jobCounts(t *testing.T, jobs []amqpDelivery) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, d := range jobs {
		var job activities.AnalysisJob
		if err := json.Unmarshal(d.Body, &job); err != nil {
			t.Fatal(err)
		}
		counts[job.ContactID]++
	}
	return counts
}
