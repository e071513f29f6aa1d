package activities_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/internal/testkit/wav"
)

// digestSink keeps the baseline's digest, as the activity keeps its own.
var digestSink string

// benchRecordingSeconds makes a recording of about 64 MiB.
const benchRecordingSeconds = 64 << 20 / (wav.Rate * 4)

// BenchmarkCopy measures recording copy throughput from the S3 stand-in into
// MinIO: "activity" is CopyRecording (heartbeats, the reuse check, the
// Postgres row); "raw", the baseline, is the same clients doing GetObject
// into PutObject with the same part size, hashing the stream with SHA-256
// and signing requests exactly as the activity does (no payload signing),
// and nothing else. Each op copies once each way, back to back, and the
// run reports their ratio (vs-raw). The activity's copy includes its
// conversation row's upsert, a few milliseconds against a 64 MiB copy.
func BenchmarkCopy(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	key := "connect/acme/CallRecordings/2026/11/24/bench.wav"
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(wav.Write(pw, benchRecordingSeconds, 1)) }()
	size := wav.Size(benchRecordingSeconds)
	if _, err := f.s3.PutObject(ctx, f.source, key, pr, size, minio.PutObjectOptions{}); err != nil {
		b.Fatal(err)
	}
	tenant, err := f.acts.Tenants.Get(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	client, err := f.acts.AWS.S3(ctx, tenant)
	if err != nil {
		b.Fatal(err)
	}

	raw := func(i int) {
		obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.source), Key: aws.String(key)})
		if err != nil {
			b.Fatal(err)
		}
		defer obj.Body.Close()
		hash := sha256.New()
		_, err = f.store.PutObject(ctx, f.acts.Bucket, fmt.Sprintf("raw/%s-%d.wav", testenv.Suffix(), i), io.TeeReader(obj.Body, hash),
			aws.ToInt64(obj.ContentLength), minio.PutObjectOptions{PartSize: 8 << 20, DisableContentSha256: true})
		if err != nil {
			b.Fatal(err)
		}
		// The activity keeps the digest as hex; so does the baseline.
		digestSink = hex.EncodeToString(hash.Sum(nil))
	}
	activity := func(i int) {
		contact := fmt.Sprintf("bench-%s-%d", testenv.Suffix(), i)
		if _, err := f.acts.Conversations.UpsertMetadata(ctx, store.Conversation{TenantID: "acme", ContactID: contact,
			LastUpdateTimestamp: time.Now(), CTR: json.RawMessage(`{}`)}); err != nil {
			b.Fatal(err)
		}
		val, err := f.env.ExecuteActivity(f.acts.CopyRecording, activities.CopyRecordingInput{
			TenantID: "acme", ContactID: contact, Location: f.source + "/" + key, Day: time.Now(),
		})
		if err != nil {
			b.Fatal(err)
		}
		var res activities.CopyRecordingResult
		if err := val.Get(&res); err != nil || res.Reused || res.SizeBytes != size {
			b.Fatalf("copy %d: %+v, %v", i, res, err)
		}
	}

	var rawTime, activityTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		raw(i)
		rawTime += time.Since(start)
		start = time.Now()
		activity(i)
		activityTime += time.Since(start)
	}
	mb := float64(b.N) * float64(size) / 1e6
	rawRate, activityRate := mb/rawTime.Seconds(), mb/activityTime.Seconds()
	b.ReportMetric(activityRate, "MB/s")
	b.ReportMetric(rawRate, "raw-MB/s")
	b.ReportMetric(activityRate/rawRate, "vs-raw")
}
