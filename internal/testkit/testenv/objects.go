package testenv

import (
	"bytes"
	"context"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/connectingest/connect-ingest/internal/testkit/wav"
)

// S3StandIn returns a client of the local stack's S3 stand-in (the second
// MinIO, playing the customer's Amazon S3).
func S3StandIn(tb testing.TB) *minio.Client {
	tb.Helper()
	cfg := Config(tb)
	c, err := minio.New("127.0.0.1:9100", &minio.Options{Creds: credentials.NewStaticV4(cfg.Worker.StandInAccessKey, cfg.Worker.StandInSecretKey, "")})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// RecordingStore returns a client of the local stack's MinIO.
func RecordingStore(tb testing.TB) *minio.Client {
	tb.Helper()
	cfg := Config(tb)
	c, err := minio.New(cfg.MinIO.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.MinIO.AccessKey, cfg.MinIO.SecretKey, "")})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Bucket creates a uniquely named bucket on c and removes it, with its
// objects, when the test ends.
func Bucket(tb testing.TB, c *minio.Client, prefix string) string {
	tb.Helper()
	name := prefix + "-" + Suffix()
	ctx := context.Background()
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		tb.Fatalf("make bucket %s (is the stack up? run `make stack`): %v", name, err)
	}
	tb.Cleanup(func() {
		for obj := range c.ListObjects(ctx, name, minio.ListObjectsOptions{Recursive: true}) {
			_ = c.RemoveObject(ctx, name, obj.Key, minio.RemoveObjectOptions{})
		}
		_ = c.RemoveBucket(ctx, name)
	})
	return name
}

// WAV returns a recording of the given length as Amazon Connect writes it.
func WAV(seconds float64) []byte {
	var buf bytes.Buffer
	_ = wav.Write(&buf, seconds, 1)
	return buf.Bytes()
}
