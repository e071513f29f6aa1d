package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// backupLine is one line Firehose writes to its backup bucket for a record
// it could not deliver.
func backupLine(arrival time.Time, data []byte) string {
	b, _ := json.Marshal(map[string]any{
		"attemptsMade": 12, "arrivalTimestamp": arrival.UnixMilli(), "errorCode": "HttpEndpoint.DestinationException",
		"errorMessage": "The endpoint answered 503", "attemptEndingTimestamp": arrival.Add(time.Hour).UnixMilli(),
		"rawData": base64.StdEncoding.EncodeToString(data),
	})
	return string(b) + "\n"
}

func TestReplay(t *testing.T) {
	pool, dsn := testenv.Database(t)
	ctrQueue := testenv.Queues(t)
	env := map[string]string{"DATABASE_URL": dsn, "AMQP_CTR_QUEUE": ctrQueue, "AMQP_ANALYSIS_QUEUE": ctrQueue + ".analysis"}
	testenv.DeleteQueueAtEnd(t, ctrQueue+".analysis")
	s3 := testenv.S3StandIn(t)
	bucket := testenv.Bucket(t, s3, "fh-backup")
	tenant := tenant.Tenant{ID: "acme", Name: "Acme", InstanceARN: arn, AWSEndpointURL: "http://127.0.0.1:9100"}
	if _, err := store.NewTenants(pool).Create(t.Context(), tenant, accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sample := func(contact string, i int) []byte {
		return ctrtest.Sample(ctrtest.Options{ContactID: contact, InstanceARN: arn, LastUpdate: day.Add(time.Duration(i) * time.Minute)})
	}
	// Object 1 (plain): three CTRs, a record that is not base64 of JSON,
	// and a CTR of another instance. Object 2 (gzip): two CTRs, one of
	// them arriving a day later than the others.
	var plain strings.Builder
	for i := range 3 {
		plain.WriteString(backupLine(day, sample(fmt.Sprintf("r-%d", i), i)))
	}
	plain.WriteString(backupLine(day, []byte("not a CTR")))
	plain.WriteString(backupLine(day, ctrtest.Sample(ctrtest.Options{ContactID: "r-other", InstanceARN: arn + "9", LastUpdate: day})))
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(backupLine(day, sample("r-3", 3)) + backupLine(day.Add(24*time.Hour), sample("r-late", 4))))
	_ = zw.Close()
	for key, body := range map[string][]byte{
		"http-endpoint-failed/2026/11/24/09/stream-1": []byte(plain.String()),
		"http-endpoint-failed/2026/11/24/10/stream-2": zipped.Bytes(),
	} {
		if _, err := s3.PutObject(t.Context(), bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, string, error) {
		var out, errOut strings.Builder
		err := run(context.Background(), args, testenv.Getenv(env), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	quarantined := func() int {
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM rejected_records`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	replayArgs := []string{"replay", "--bucket", bucket, "--prefix", "http-endpoint-failed/", "--tenant", "acme", "--to", day.Add(time.Hour).Format(time.RFC3339)}

	var firstIDs []string
	t.Run("each CTR goes through the gateway's path: valid ones published, bad ones quarantined", func(t *testing.T) {
		out, _, err := run(replayArgs...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "2 objects, 7 records: 4 published, 2 quarantined, 0 refused (contact erased), 1 outside --from/--to") {
			t.Fatalf("summary: %s", out)
		}
		for _, d := range testenv.Drain(t, ctrQueue, 4) {
			firstIDs = append(firstIDs, d.MessageId)
		}
		slices.Sort(firstIDs)
		if len(firstIDs) != 4 || !strings.Contains(strings.Join(firstIDs, " "), "acme/r-3/") {
			t.Fatalf("published %v", firstIDs)
		}
		if n := quarantined(); n != 2 {
			t.Fatalf("%d quarantined records, want 2 (not base64 JSON, other instance)", n)
		}
	})

	t.Run("a second replay publishes the same messages and quarantines nothing twice", func(t *testing.T) {
		if out, _, err := run(replayArgs...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var again []string
		for _, d := range testenv.Drain(t, ctrQueue, 4) {
			again = append(again, d.MessageId)
		}
		slices.Sort(again)
		if !slices.Equal(again, firstIDs) {
			t.Fatalf("second replay published %v, first %v: the worker could not recognise the duplicates", again, firstIDs)
		}
		if n := quarantined(); n != 2 {
			t.Fatalf("%d quarantined records after a second replay, want still 2", n)
		}
	})

	t.Run("an erased contact's CTR is refused, counted and never published", func(t *testing.T) {
		if _, err := store.NewErasures(pool).Begin(t.Context(), store.Erasure{TenantID: "acme", ContactID: "r-1", Reason: "r", RequestedBy: "t"}); err != nil {
			t.Fatal(err)
		}
		out, _, err := run(replayArgs...)
		if err != nil || !strings.Contains(out, "3 published, 2 quarantined, 1 refused (contact erased)") {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, d := range testenv.Drain(t, ctrQueue, 4) {
			if strings.HasPrefix(d.MessageId, "acme/r-1/") {
				t.Fatalf("the erased contact's CTR was published: %s", d.MessageId)
			}
		}
	})

	t.Run("without --tenant, records go to the tenant their instance names; the rest are reported, not dropped", func(t *testing.T) {
		out, stderr, err := run("replay", "--bucket", bucket, "--prefix", "http-endpoint-failed/2026/11/24/09/", "--aws-endpoint-url", "http://127.0.0.1:9100")
		if err == nil || !strings.Contains(out, "2 published") || !strings.Contains(out, "1 refused") || !strings.Contains(out, "2 unattributed") {
			t.Fatalf("err %v, summary %s", err, out)
		}
		if !strings.Contains(stderr, "line 4") || !strings.Contains(stderr, "line 5") {
			t.Fatalf("the unattributed lines are not named:\n%s", stderr)
		}
		testenv.Drain(t, ctrQueue, 3)
	})
}
