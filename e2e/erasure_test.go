package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/workflows"
)

// TestErasureStaysErased erases calls with the real gateway, worker and
// ingestctl over a versioned recording store, and then tries every way back
// in: an operator's retry and cancel, Firehose's redelivery, a replay of
// its S3 backup. None may bring anything back, a contact erased before it
// arrived is refused when it comes, a bulk erasure reaches a call whose
// history Temporal no longer has, and every act is in the audit log, under
// its operator, written before it ran.
func TestErasureStaysErased(t *testing.T) {
	l := &lifecycle{system: startSystem(t), t: t, s3: testenv.S3StandIn(t), store: testenv.RecordingStore(t), temporal: testenv.Temporal(t)}
	if err := l.store.EnableVersioning(context.Background(), l.bucket); err != nil {
		t.Fatal(err)
	}
	tn := newTenant(testenv.Bucket(t, l.s3, "stay-rec"))
	l.addTenant(tn)
	recent := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	id := "stay-done"
	record := ctrtest.Sample(ctrtest.Options{ContactID: id, InstanceARN: tn.InstanceARN, LastUpdate: recent,
		RecordingLocation: l.call(tn, id, recent, true)})
	l.waitState(tn.ID, id, "enqueued")
	l.jobs(1)

	t.Run("erasing a call removes every version of its recording", func(t *testing.T) {
		out := l.run("ingestctl", "calls", "erase", tn.ID, id, "--reason", "subject request")
		if !strings.Contains(out, "erased:") {
			t.Errorf("erase said %q", out)
		}
		l.checkErased(tn.ID, id, "subject request")
		l.retraction()
		if keys := l.objectVersions(tn.ID); len(keys) != 0 {
			t.Errorf("versions or delete markers left in the versioned bucket: %v", keys)
		}
	})

	t.Run("retry and cancel are refused with a clear message", func(t *testing.T) {
		for _, args := range [][]string{{"calls", "retry", tn.ID, id}, {"calls", "cancel", tn.ID, id, "--reason", "x"}} {
			out, err := l.try("ingestctl", args...)
			if err == nil || !strings.Contains(out, tn.ID+"/"+id+" was erased") {
				t.Errorf("ingestctl %v: %v\n%s", args, err, out)
			}
		}
	})

	t.Run("Firehose's redelivery and a replay of its backup are refused, and nothing comes back", func(t *testing.T) {
		l.send(tn, record)
		backup := testenv.Bucket(t, l.s3, "stay-backup")
		line, _ := json.Marshal(map[string]any{"attemptsMade": 3, "arrivalTimestamp": recent.UnixMilli(),
			"errorCode": "HttpEndpoint.DestinationException", "rawData": base64.StdEncoding.EncodeToString(record)})
		line = append(line, '\n')
		if _, err := l.s3.PutObject(context.Background(), backup, "failed/stream-1", bytes.NewReader(line), int64(len(line)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		out := l.run("ingestctl", "replay", "--bucket", backup, "--prefix", "failed/", "--tenant", tn.ID)
		if !strings.Contains(out, "0 published") || !strings.Contains(out, "1 refused (contact erased)") {
			t.Errorf("replay said %q", out)
		}
		l.waitRefused(tn.ID, id)
		l.checkErased(tn.ID, id, "subject request")
	})

	t.Run("a contact erased before it arrives is refused when it comes", func(t *testing.T) {
		later := "stay-later"
		out := l.run("ingestctl", "calls", "erase", tn.ID, later, "--reason", "asked before the call ended")
		if !strings.Contains(out, "nothing held of it yet") {
			t.Errorf("erase said %q", out)
		}
		l.call(tn, later, recent, true)
		l.waitRefused(tn.ID, later)
		l.checkErased(tn.ID, later, "asked before the call ended")
	})

	t.Run("a bulk erasure reaches a call whose history has passed Temporal's retention", func(t *testing.T) {
		old := "stay-old"
		l.call(tn, old, recent, true)
		l.waitState(tn.ID, old, "enqueued")
		l.jobs(1)
		testenv.ForgetWorkflow(t, l.temporal, workflows.ConversationWorkflowID(tn.ID, old))
		out := l.run("ingestctl", "calls", "erase", "--tenant", tn.ID, "--older-than", "30m", "--reason", "past retention", "--yes")
		if !strings.Contains(out, "1 done, 0 failed") {
			t.Errorf("bulk erase said %q", out)
		}
		l.checkErased(tn.ID, old, "past retention")
		l.retraction()
	})

	t.Run("an operator limited to another tenant is refused this tenant's calls through the admin API", func(t *testing.T) {
		token := strings.TrimSpace(l.run("ingestctl", "operators", "create", "sam-"+tn.ID, "--role", "operate,erase", "--tenant", "someone-else"))
		admin := ""
		for _, kv := range l.env {
			if v, ok := strings.CutPrefix(kv, "WORKER_ADMIN_ADDR="); ok {
				admin = v
			}
		}
		call := func(method, path, body string) int {
			req, err := http.NewRequest(method, "http://"+admin+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/v1/calls/" + tn.ID + "/" + id, ""},
			{"POST", "/v1/calls/" + tn.ID + "/stay-other/erase", `{"reason":"x"}`},
			{"GET", "/v1/calls?tenant=" + tn.ID, ""},
		} {
			if status := call(r.method, r.path, r.body); status != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", r.method, r.path, status)
			}
		}
		if status := call("GET", "/v1/calls?tenant=someone-else", ""); status != http.StatusOK {
			t.Errorf("its own tenant's calls: %d", status)
		}
		if n := l.count(`SELECT count(*) FROM erasures WHERE tenant_id = $1 AND contact_id = 'stay-other'`, tn.ID); n != 0 {
			t.Errorf("a refused erasure wrote a tombstone")
		}
	})

	t.Run("every act is in the audit log under its operator, written before it ran", func(t *testing.T) {
		l.run("ingestctl", "tenants", "update", tn.ID, "--retention", "400d")
		l.run("ingestctl", "tenants", "rotate-key", tn.ID)
		l.run("ingestctl", "tenants", "instances", "add", tn.ID, "--instance-arn",
			"arn:aws:connect:us-east-1:111122223333:instance/"+tn.ID+"-us", "--recording-bucket", tn.Bucket)
		l.run("ingestctl", "operators", "create", "dpo-"+tn.ID, "--role", "erase", "--tenant", tn.ID)
		l.run("ingestctl", "operators", "revoke", "dpo-"+tn.ID)
		l.run("ingestctl", "rejected", "list", "--tenant", tn.ID)
		l.run("ingestctl", "deadletters", "list")
		var entries []struct {
			At          time.Time      `json:"at"`
			Operator    string         `json:"operator"`
			Action      string         `json:"action"`
			Target      string         `json:"target"`
			Outcome     string         `json:"outcome"`
			Filter      map[string]any `json:"filter"`
			Calls       []string       `json:"calls"`
			CompletedAt *time.Time     `json:"completedAt"`
		}
		if err := json.Unmarshal([]byte(l.run("ingestctl", "audit", "list", "--json", "--limit", "1000")), &entries); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"tenant-add ":                    "ok",
			"erase " + tn.ID + "/" + id:      "ok",
			"retry " + tn.ID + "/" + id:      "refused",
			"cancel " + tn.ID + "/" + id:     "refused",
			"replay ":                        "ok",
			"erase " + tn.ID + "/stay-later": "ok",
			"bulk-erase ":                    "ok",
			"tenant-update " + tn.ID:         "ok",
			"key-rotate " + tn.ID:            "ok",
			"instance-add " + tn.ID:          "ok",
			"operator-create dpo-" + tn.ID:   "ok",
			"operator-revoke dpo-" + tn.ID:   "ok",
			"read-raw ":                      "ok",
		}
		for _, e := range entries {
			key := e.Action + " " + e.Target
			if w, ok := want[key]; ok {
				if e.Outcome != w || !strings.HasPrefix(e.Operator, "ingestctl") || e.CompletedAt == nil || e.CompletedAt.Before(e.At) {
					t.Errorf("%s: %+v, want %s under an ingestctl login", key, e, w)
				}
				if e.Action == "bulk-erase" && (len(e.Calls) != 1 || e.Calls[0] != tn.ID+"/stay-old") {
					t.Errorf("bulk erase touched %v", e.Calls)
				}
				delete(want, key)
			}
		}
		if len(want) != 0 {
			t.Errorf("not in the audit log: %v", want)
		}
		// The intent is written before the act: the erasure's entry is
		// older than the tombstone it led to.
		if n := l.count(`SELECT count(*) FROM audit_log a JOIN erasures e ON a.target = e.tenant_id || '/' || e.contact_id
			WHERE a.action = 'erase' AND e.tenant_id = $1 AND a.at <= e.requested_at`, tn.ID); n != 2 {
			t.Errorf("%d of 2 erasures audited before their tombstone", n)
		}
	})
	l.checkHistoriesDeleted(3 * time.Minute)
}

// objectVersions lists every version and delete marker of a tenant's objects
// in the recording store.
func (l *lifecycle) objectVersions(tenantID string) []string {
	l.t.Helper()
	var keys []string
	for o := range l.store.ListObjects(context.Background(), l.bucket, minio.ListObjectsOptions{Prefix: tenantID + "/", Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			l.t.Fatal(o.Err)
		}
		keys = append(keys, o.Key+"@"+o.VersionID)
	}
	return keys
}
