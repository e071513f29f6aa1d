package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/connectingest/connect-ingest/internal/audio"
	"github.com/connectingest/connect-ingest/internal/awsx"
)

// What copyObject finds instead of a recording to copy.
var (
	// errNotInS3: S3 does not have the recording (yet).
	errNotInS3 = errors.New("recording is not in S3 (yet)")
	// errTooLarge: the recording is larger than the caller's bound.
	errTooLarge = errors.New("recording is larger than the bound")
	// errDeniedOrMissing: S3 answered 403 and the role may not list the
	// bucket, so S3 answers a missing object that way too: it is waited
	// for like a missing one.
	errDeniedOrMissing = errors.New("access denied or missing (does the role have s3:ListBucket?)")
	// errNotTranscript: a chat transcript that is empty or not a JSON
	// object.
	errNotTranscript = errors.New("is empty or not a JSON object")
)

// accessDeniedError is S3 or KMS refusing a recording that exists: only
// granting the permission it names helps.
type accessDeniedError struct {
	object     string
	permission string
	cause      error
}

func (e *accessDeniedError) Error() string {
	return fmt.Sprintf("access denied to %s: the role needs %s (%v)", e.object, e.permission, e.cause)
}

func (e *accessDeniedError) Unwrap() error { return e.cause }

// isUnusable reports a recording that cannot be analysed: no audio, not
// the WAV it claims to be, or a transcript that is no JSON object.
func isUnusable(err error) bool {
	return errors.Is(err, audio.ErrNoAudio) || errors.Is(err, audio.ErrNotWAV) || errors.Is(err, errNotTranscript)
}

// whyDenied explains S3's 403 on a recording. S3 answers 403 for a missing
// object when the role lacks s3:ListBucket, and for an object the role may
// not read, or whose KMS key refuses it. A KMS refusal says so; otherwise
// listing the key tells the two apart when the role may list, and when it
// may not, nothing can: the copy waits as for a missing recording.
func whyDenied(ctx context.Context, client *s3.Client, loc Location, cause error) error {
	object := fmt.Sprintf("s3://%s/%s", loc.Bucket, loc.Key)
	if perm, ok := kmsRefusal(cause); ok {
		return &accessDeniedError{object: object, permission: perm, cause: cause}
	}
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(loc.Bucket), Prefix: aws.String(loc.Key), MaxKeys: aws.Int32(1),
	})
	switch {
	case awsx.HTTPStatus(err) == 403:
		return fmt.Errorf("%s: %w", object, errDeniedOrMissing)
	case err != nil:
		return fmt.Errorf("list %s to explain S3's 403: %w", object, err)
	case len(out.Contents) > 0 && aws.ToString(out.Contents[0].Key) == loc.Key:
		return &accessDeniedError{object: object, permission: fmt.Sprintf("s3:GetObject on arn:aws:s3:::%s/%s", loc.Bucket, loc.Key), cause: cause}
	}
	return fmt.Errorf("%s: %w", object, errNotInS3)
}

// kmsRefusal reports a refusal by the KMS key that encrypts an object, and
// what to fix: S3 answers 403 AccessDenied naming kms:Decrypt when the key
// policy leaves the role out, and KMS.* codes for a key disabled, pending
// deletion or gone.
func kmsRefusal(err error) (string, bool) {
	var api smithy.APIError
	if !awsx.IsKMSRefusal(err) || !errors.As(err, &api) {
		return "", false
	}
	if code := api.ErrorCode(); strings.HasPrefix(code, "KMS.") {
		return fmt.Sprintf("a usable KMS key: the bucket's key answered %s", code), true
	}
	return "kms:Decrypt on the bucket's KMS key (add the role to the key policy)", true
}

// kmsCode reports a KMS.* error code, which S3 answers with 400 when the
// object's key is disabled, pending deletion or gone.
func kmsCode(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && strings.HasPrefix(api.ErrorCode(), "KMS.")
}

// isClientError reports an S3 refusal that retrying cannot fix: a 4xx
// answer other than not-found, throttling and request timeouts.
func isClientError(err error) bool {
	code := awsx.HTTPStatus(err)
	return code >= 400 && code < 500 && code != 404 && code != 408 && code != 429
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *s3types.NoSuchKey
	var nsb *s3types.NoSuchBucket
	if errors.As(err, &nsk) || errors.As(err, &nsb) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey")
}
