package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/connectingest/connect-ingest/internal/tenant"
)

// Location is where Amazon Connect stored a recording: a bucket and a key.
type Location struct {
	Bucket string
	Key    string
}

// MaxKeyBytes is the longest object key S3 accepts.
const MaxKeyBytes = 1024

// ParseLocation reads a CTR recording Location. Connect writes it as
// "bucket/key", with no scheme, and keys may contain ':' (the time in the
// file name), so it is split at the first '/' and otherwise used as given.
// A location that could reach outside the named bucket is refused: a scheme
// or host, a leading '/', backslashes, control characters, or '.'/'..'
// segments; so is a key S3 would refuse itself, longer than MaxKeyBytes or
// not UTF-8.
func ParseLocation(loc string) (Location, error) {
	if strings.Contains(loc, "://") {
		return Location{}, fmt.Errorf("location %.200q has a scheme; Connect writes bucket/key", loc)
	}
	bucket, key, ok := strings.Cut(loc, "/")
	if !ok || key == "" {
		return Location{}, fmt.Errorf("location %.200q is not bucket/key", loc)
	}
	if !tenant.ValidBucketName(bucket) {
		return Location{}, fmt.Errorf("location %.200q: %q is not an S3 bucket name", loc, bucket)
	}
	if len(key) > MaxKeyBytes || !utf8.ValidString(key) {
		return Location{}, fmt.Errorf("location %.200q: key is not a UTF-8 S3 key of at most %d bytes", loc, MaxKeyBytes)
	}
	if strings.HasPrefix(key, "/") || strings.Contains(key, `\`) {
		return Location{}, fmt.Errorf("location %.200q: key must be relative", loc)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return Location{}, fmt.Errorf("location %.200q: key has control characters", loc)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." || seg == "" {
			return Location{}, fmt.Errorf("location %.200q: key has an empty, '.' or '..' segment", loc)
		}
	}
	return Location{Bucket: bucket, Key: key}, nil
}

// CheckAllowed refuses a location outside the tenant's recording buckets.
func (l Location) CheckAllowed(buckets []string) error {
	if !slices.Contains(buckets, l.Bucket) {
		return fmt.Errorf("bucket %q is not one of the tenant's recording buckets", l.Bucket)
	}
	return nil
}

// ObjectKey is where a recording is stored in MinIO: per tenant, day of the
// call, contact, and recording. It depends only on its inputs, so a retried
// or repeated copy writes the same object.
func ObjectKey(tenantID, contactID string, day time.Time, sourceLocation string) string {
	h := sha256.Sum256([]byte(sourceLocation))
	ext := strings.ToLower(path.Ext(sourceLocation))
	if ext == "" || len(ext) > 6 {
		ext = ".bin"
	}
	return fmt.Sprintf("%s/%s/%s/%s%s", tenantID, day.UTC().Format("2006/01/02"), contactID, hex.EncodeToString(h[:8]), ext)
}
