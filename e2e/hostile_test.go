package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// post sends one delivery to the real gateway and returns its status.
func (s *system) post(t *testing.T, key, headerID string, body []byte, gzipped bool) int {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+s.gateway+"/firehose", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(firehose.HeaderRequestID, headerID)
	if key != "" {
		req.Header.Set(firehose.HeaderAccessKey, key)
	}
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func delivery(id string, records ...[]byte) []byte {
	r := firehose.Request{RequestID: id, Timestamp: time.Now().UnixMilli()}
	for _, rec := range records {
		r.Records = append(r.Records, firehose.Record{Data: base64.StdEncoding.EncodeToString(rec)})
	}
	b, _ := json.Marshal(r)
	return b
}

// TestHostileInput sends hostile and malformed deliveries to the real
// gateway and checks each answer, that every refused record is quarantined
// with its reason, and that nothing reaches a workflow that should not.
func TestHostileInput(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	a := newTenant(testenv.Bucket(t, testenv.S3StandIn(t), "hostile-rec"))
	b := newTenant(testenv.Bucket(t, testenv.S3StandIn(t), "victim-rec"))
	s.addTenant(a)
	s.addTenant(b)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sample := func(tn e2eTenant, contact, location string) []byte {
		return ctrtest.Sample(ctrtest.Options{ContactID: contact, InstanceARN: tn.InstanceARN, LastUpdate: t0, RecordingLocation: location})
	}

	t.Run("requests the gateway refuses as a whole get 401 or 400, never 413", func(t *testing.T) {
		good := delivery("req-ok", sample(a, "h-never", ""))
		var bomb bytes.Buffer
		zw := gzip.NewWriter(&bomb)
		_, _ = zw.Write(bytes.Repeat([]byte(" "), 80<<20))
		_ = zw.Close()
		cases := []struct {
			name   string
			key    string
			id     string
			body   []byte
			gzip   bool
			status int
		}{
			{"no access key", "", "req-ok", good, false, 401},
			{"a wrong access key", "not-a-key-of-anyone-0123456789", "req-ok", good, false, 401},
			{"a body over the limit", a.AccessKey, "req-big", bytes.Repeat([]byte("x"), firehose.MaxBodyBytes+1), false, 400},
			{"a gzip bomb", a.AccessKey, "req-bomb", bomb.Bytes(), true, 400},
			{"invalid JSON", a.AccessKey, "req-json", []byte(`{"requestId": "req-json", "records": [`), false, 400},
			{"a requestId differing from the header's", a.AccessKey, "req-other", good, false, 400},
		}
		for _, c := range cases {
			if got := s.post(t, c.key, c.id, c.body, c.gzip); got != c.status {
				t.Errorf("%s: %d, want %d", c.name, got, c.status)
			}
		}
	})

	attrs := map[string]string{}
	for i := range 10000 {
		attrs[fmt.Sprintf("attr_%05d", i)] = "v"
	}
	huge := ctrtest.Sample(ctrtest.Options{ContactID: "h-attrs", InstanceARN: a.InstanceARN, LastUpdate: t0, Attributes: attrs})
	longField := []byte(strings.Replace(string(sample(a, "h-long", "")), `"Channel"`, `"Padding":"`+strings.Repeat("y", 200_000)+`","Channel"`, 1))
	records := [][]byte{
		sample(b, "h-other-tenant", ""),    // a's key, b's instance: quarantined
		[]byte("\xff\xfe not UTF-8"),       // quarantined
		[]byte(`{"ContactId": "h-no-ts"}`), // quarantined: no LastUpdateTimestamp
		huge,                               // 10,000 attributes: accepted
		longField,                          // a very long field: accepted
		sample(a, "h-escape", a.Bucket+"/../victim-rec/k.wav"),         // stored, rejected at the copy
		sample(a, "h-foreign", b.Bucket+"/connect/k.wav"),              // another tenant's bucket
		sample(a, "h-scheme", "s3://"+a.Bucket+"/k.wav"),               // a scheme
		sample(a, "h-host", "evil.example.com/"+a.Bucket+"/k"),         // a host
		sample(a, "h-longkey", a.Bucket+"/"+strings.Repeat("k", 1100)), // a key S3 refuses
		// Valid JSON that Postgres, or one of the two parsers, would read
		// otherwise: each quarantined at the gateway with its reason.
		with(sample(a, "h-nul", ""), `"Attributes":{"a":"x\u0000y"},`),                  // unstorable_json
		with(sample(a, "h-surrogate", ""), `"Note":"\ud800",`),                          // unstorable_json
		with(sample(a, "h-number", ""), `"Score":1e400,`),                               // unstorable_json
		with(sample(a, "h-twice", ""), `"ContactId":"h-twice-b",`),                      // ambiguous_field
		with(sample(a, "h-alike", ""), `"LastUpdateTimeſtamp":"2030-01-01T00:00:00Z",`), // ambiguous_field
		with(sample(a, "h-type", ""), `"Channel":5,`),                                   // invalid_field
	}
	body := delivery("req-hostile", records...)
	// bad base64 cannot go through delivery(): splice it in.
	body = bytes.Replace(body, []byte(`"records":[`), []byte(`"records":[{"data":"%%% not base64 %%%"},`), 1)

	t.Run("a delivery with hostile records is answered 200 once each is published or quarantined", func(t *testing.T) {
		if got := s.post(t, a.AccessKey, "req-hostile", body, false); got != 200 {
			t.Fatalf("status %d", got)
		}
		// Firehose retries the same request: nothing is quarantined twice.
		if got := s.post(t, a.AccessKey, "req-hostile", body, false); got != 200 {
			t.Fatalf("retry: status %d", got)
		}
	})

	s.waitSettled(a.ID, 7, 3*time.Minute)

	t.Run("each refused record is quarantined once, with its reason", func(t *testing.T) {
		rows, err := s.pool.Query(ctx, `SELECT reason, count(*) FROM rejected_records WHERE tenant_id = $1 GROUP BY reason`, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for rows.Next() {
			var r string
			var n int
			if err := rows.Scan(&r, &n); err != nil {
				t.Fatal(err)
			}
			got[r] = n
		}
		want := map[string]int{"bad_base64": 1, "instance_mismatch": 1, "invalid_utf8": 1, "missing_last_update_timestamp": 1,
			"unstorable_json": 3, "ambiguous_field": 2, "invalid_field": 1}
		for r, n := range want {
			if got[r] != n {
				t.Errorf("%s: %d quarantined, want %d (all: %v)", r, got[r], n, got)
			}
		}
	})

	t.Run("the accepted records are conversations; bad recording locations are rejected and copy nothing", func(t *testing.T) {
		convs := store.NewConversations(s.pool)
		for id, state := range map[string]conversation.State{
			"h-attrs": conversation.NoRecording, "h-long": conversation.NoRecording, "h-escape": conversation.Rejected,
			"h-foreign": conversation.Rejected, "h-scheme": conversation.Rejected, "h-host": conversation.Rejected,
			"h-longkey": conversation.Rejected,
		} {
			c, recs, err := convs.Get(ctx, a.ID, id)
			if err != nil || c.State != state || len(recs) != 0 {
				t.Errorf("%s: %s %q, %d recordings, %v; want %s", id, c.State, c.StateDetail, len(recs), err, state)
			}
		}
		for obj := range testenv.RecordingStore(t).ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: a.ID + "/", Recursive: true}) {
			t.Errorf("an object was copied: %s", obj.Key)
		}
		if n := testenv.QueueDepth(t, s.analysis); n != 0 {
			t.Errorf("%d analysis jobs", n)
		}
	})

	t.Run("nothing reached a workflow of the other tenant", func(t *testing.T) {
		tc := testenv.Temporal(t)
		n, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: fmt.Sprintf("TenantId = '%s'", b.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if n.GetCount() != 0 {
			t.Fatalf("%d workflows for the tenant whose instance a's key named", n.GetCount())
		}
		var rows int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE tenant_id = $1`, b.ID).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("%d conversations for the other tenant, %v", rows, err)
		}
	})
}

// with puts members at the start of a record's top-level object.
func with(record []byte, members string) []byte {
	return append([]byte("{"+members), record[1:]...)
}
