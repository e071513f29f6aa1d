package testenv

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
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

// WAV returns a stereo 8 kHz 16-bit PCM recording of the given length, as
// Amazon Connect writes them: customer on the left channel, agent on the
// right, here two tones.
func WAV(seconds float64) []byte {
	const rate = 8000
	n := int(seconds * rate)
	var buf bytes.Buffer
	data := uint32(n * 4)
	buf.WriteString("RIFF")
	_ = binary.Write(&buf, binary.LittleEndian, 36+data)
	buf.WriteString("WAVEfmt ")
	_ = binary.Write(&buf, binary.LittleEndian, []any{uint32(16), uint16(1), uint16(2), uint32(rate), uint32(rate * 4), uint16(4), uint16(16)})
	buf.WriteString("data")
	_ = binary.Write(&buf, binary.LittleEndian, data)
	for i := range n {
		t := float64(i) / rate
		left := int16(8000 * math.Sin(2*math.Pi*440*t))
		right := int16(8000 * math.Sin(2*math.Pi*660*t))
		_ = binary.Write(&buf, binary.LittleEndian, []int16{left, right})
	}
	return buf.Bytes()
}
