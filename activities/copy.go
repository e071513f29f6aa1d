package activities

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/audio"
	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// CopyRecordingInput names one recording of one conversation.
type CopyRecordingInput struct {
	TenantID  string
	ContactID string
	// Location is the CTR's recording Location, bucket/key.
	Location    string
	Participant string
	MediaType   string
	// Day is the day of the call, for the object key.
	Day time.Time
	// WaitUntil, when set, makes the copy wait for a recording not in S3
	// yet by itself: each attempt that finds nothing records
	// waiting_recording and asks Temporal to retry later, backing off from
	// 15 s to 5 min, and the first attempt past WaitUntil records
	// recording_missing and fails for good. The copy then also records the
	// states it decides (copying, rejected). Zero keeps the first workflow
	// version's contract: a missing recording fails at once with
	// ErrTypeRecordingNotFound, and the workflow waits and records states.
	WaitUntil time.Time
}

// Waiting for a late recording: the first retry after recordingFirstWait,
// then twice as long each time, at most recordingMaxWait apart.
const (
	recordingFirstWait = 15 * time.Second
	recordingMaxWait   = 5 * time.Minute
)

// CopyRecordingResult is the stored object: a reference, never the audio.
type CopyRecordingResult struct {
	Bucket      string
	Key         string
	SizeBytes   int64
	ContentType string
	SHA256      string
	// Reused is true when an earlier attempt had already copied it.
	Reused bool
}

// partSize bounds the memory one copy uses: MinIO's client buffers one part
// of a stream of known size at a time.
const partSize = 8 << 20

// heartbeatEvery is how often a copy reports its progress.
const heartbeatEvery = 2 * time.Second

// CopyRecording streams a recording from the tenant's S3 bucket into MinIO,
// hashing it on the way, and records the object in Postgres. The audio is
// never whole in memory and never in workflow history. A recording already
// copied by an earlier attempt is reused. A missing object fails with
// ErrTypeRecordingNotFound and a location outside the tenant's buckets with
// ErrTypeLocationNotAllowed, neither retried here: the workflow waits for
// the first and gives up on the second.
func (a *Activities) CopyRecording(ctx context.Context, in CopyRecordingInput) (CopyRecordingResult, error) {
	waits := !in.WaitUntil.IsZero()
	tenant, loc, err := a.copySource(ctx, in, waits)
	if err != nil {
		return CopyRecordingResult{}, err
	}
	if waits && activity.GetInfo(ctx).Attempt > 1 {
		// An earlier attempt found nothing and said waiting_recording.
		if err := a.setState(ctx, in.TenantID, in.ContactID, conversation.Copying, in.Location); err != nil {
			return CopyRecordingResult{}, err
		}
	}
	res, err := a.copyObject(ctx, in, tenant, loc, 0)
	var denied *accessDeniedError
	switch {
	case (errors.Is(err, errNotInS3) || errors.Is(err, errDeniedOrMissing)) && waits:
		return CopyRecordingResult{}, a.notYet(ctx, in, err)
	case errors.Is(err, errNotInS3), errors.Is(err, errDeniedOrMissing):
		return CopyRecordingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRecordingNotFound, err)
	case errors.As(err, &denied):
		return CopyRecordingResult{}, a.refuse(ctx, in, waits, conversation.RecordingAccessDenied, ErrTypeRecordingAccessDenied, err)
	case isUnusable(err):
		return CopyRecordingResult{}, a.refuse(ctx, in, waits, conversation.RecordingEmpty, ErrTypeRecordingEmpty, err)
	}
	return res, err
}

// refuse ends a copy that retrying cannot help, in state with the reason;
// when records is set, the conversation is marked so first.
func (a *Activities) refuse(ctx context.Context, in CopyRecordingInput, records bool, state conversation.State, typ string, cause error) error {
	if records {
		if err := a.setState(ctx, in.TenantID, in.ContactID, state, cause.Error()); err != nil {
			return err
		}
	}
	return temporal.NewNonRetryableApplicationError(cause.Error(), typ, cause)
}

// copySource finds the tenant and checks the recording's location against
// its buckets. A refused location fails for good; when records is set, the
// conversation is marked rejected first.
func (a *Activities) copySource(ctx context.Context, in CopyRecordingInput, records bool) (tenant.Tenant, Location, error) {
	t, err := a.Tenants.Get(ctx, in.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return tenant.Tenant{}, Location{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeTenantNotFound, err)
	}
	if err != nil {
		return tenant.Tenant{}, Location{}, err
	}
	loc, err := ParseLocation(in.Location)
	if err == nil {
		err = loc.CheckAllowed(t.AllRecordingBuckets())
	}
	if err != nil {
		if records {
			if serr := a.setState(ctx, in.TenantID, in.ContactID, conversation.Rejected, "recording location refused: "+err.Error()); serr != nil {
				return tenant.Tenant{}, Location{}, serr
			}
		}
		return tenant.Tenant{}, Location{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeLocationNotAllowed, err)
	}
	return t, loc, nil
}

// copyObject streams the recording at loc into MinIO and records it, or
// reuses an earlier attempt's copy. With maxBytes above zero, a recording
// larger than that is left alone (errTooLarge) before any byte is read.
func (a *Activities) copyObject(ctx context.Context, in CopyRecordingInput, t tenant.Tenant, loc Location, maxBytes int64) (CopyRecordingResult, error) {
	key := ObjectKey(in.TenantID, in.ContactID, in.Day, in.Location)
	if res, ok, err := a.copied(ctx, in, key); err != nil || ok {
		return res, err
	}
	// An erased contact's recording is not copied again; a tombstone
	// written after this look is met by Postgres when the copy is recorded.
	if err := a.Erasures.Check(ctx, in.TenantID, in.ContactID); err != nil {
		return CopyRecordingResult{}, classify(err)
	}
	client, err := a.AWS.S3(ctx, t)
	if err != nil {
		return CopyRecordingResult{}, err
	}
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)})
	switch {
	case isNotFound(err):
		return CopyRecordingResult{}, fmt.Errorf("s3://%s/%s: %w", loc.Bucket, loc.Key, errNotInS3)
	case awsx.HTTPStatus(err) == 403, kmsCode(err):
		return CopyRecordingResult{}, whyDenied(ctx, client, loc, err)
	case isClientError(err):
		return CopyRecordingResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("S3 refused recording s3://%s/%s: %v", loc.Bucket, loc.Key, err), ErrTypeRecordingRefused, err)
	case err != nil:
		return CopyRecordingResult{}, fmt.Errorf("get s3://%s/%s: %w", loc.Bucket, loc.Key, err)
	}
	defer obj.Body.Close()
	size := aws.ToInt64(obj.ContentLength)
	if maxBytes > 0 && size > maxBytes {
		return CopyRecordingResult{}, fmt.Errorf("s3://%s/%s has %d bytes: %w", loc.Bucket, loc.Key, size, errTooLarge)
	}
	contentType := aws.ToString(obj.ContentType)
	if contentType == "" || contentType == "binary/octet-stream" || contentType == "application/octet-stream" {
		contentType = "audio/wav"
		if in.MediaType == MediaTypeChat {
			contentType = "application/json"
		}
	}

	// A recording that claims to be a WAV file is read from its header
	// before a byte is stored, and its channels measured on the way.
	var src io.Reader = obj.Body
	hash := sha256.New()
	var sink io.Writer = hash
	var meter *audio.Meter
	if audio.ClaimsWAV(loc.Key, contentType) {
		br := bufio.NewReaderSize(obj.Body, audio.HeaderWindow)
		head, err := br.Peek(int(min(size, audio.HeaderWindow)))
		if err != nil && !errors.Is(err, io.EOF) {
			return CopyRecordingResult{}, fmt.Errorf("read s3://%s/%s: %w", loc.Bucket, loc.Key, err)
		}
		f, err := audio.ParseWAV(head, size)
		if err != nil {
			return CopyRecordingResult{}, fmt.Errorf("recording s3://%s/%s: %w", loc.Bucket, loc.Key, err)
		}
		meter = audio.NewMeter(f)
		src, sink = br, io.MultiWriter(hash, meter)
	}
	if in.MediaType == MediaTypeChat {
		// A transcript is a JSON object: what is empty or is not one is
		// not copied.
		br := bufio.NewReaderSize(src, 512)
		head, err := br.Peek(int(min(size, 512)))
		if err != nil && !errors.Is(err, io.EOF) {
			return CopyRecordingResult{}, fmt.Errorf("read s3://%s/%s: %w", loc.Bucket, loc.Key, err)
		}
		if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) == 0 || t[0] != '{' {
			return CopyRecordingResult{}, fmt.Errorf("transcript s3://%s/%s: %w", loc.Bucket, loc.Key, errNotTranscript)
		}
		src = br
	}
	body := io.TeeReader(&progressReader{ctx: ctx, r: src}, sink)
	info, err := a.MinIO.PutObject(ctx, a.Bucket, key, body, size, minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    partSize,
		// The copy hashes the whole object itself and checks its size;
		// signing each request's payload too (what the client does over
		// plain HTTP; over TLS it never does) would hash every byte twice.
		DisableContentSha256: true,
		UserMetadata: map[string]string{
			"tenant-id":       in.TenantID,
			"contact-id":      in.ContactID,
			"source-location": in.Location,
		},
	})
	if err != nil {
		return CopyRecordingResult{}, fmt.Errorf("put %s/%s: %w", a.Bucket, key, err)
	}
	if info.Size != size {
		return CopyRecordingResult{}, fmt.Errorf("put %s/%s: stored %d bytes of %d", a.Bucket, key, info.Size, size)
	}
	res := CopyRecordingResult{Bucket: a.Bucket, Key: key, SizeBytes: size, ContentType: contentType, SHA256: hex.EncodeToString(hash.Sum(nil))}
	now := time.Now().UTC()
	rec := store.Recording{
		TenantID: in.TenantID, ContactID: in.ContactID, SourceLocation: in.Location, Participant: in.Participant,
		MediaType: in.MediaType, ObjectBucket: res.Bucket, ObjectKey: res.Key, SizeBytes: &res.SizeBytes,
		ContentType: res.ContentType, SHA256: res.SHA256, CopiedAt: &now,
	}
	if meter != nil {
		f := meter.Format()
		rec.Audio = &f
	}
	err = a.Conversations.UpsertRecording(ctx, rec)
	if store.IsErased(err) {
		// The erasure began while the object was stored, and read the
		// contact's recordings before this one: the object is the copy's
		// to remove.
		return CopyRecordingResult{}, errors.Join(classify(err), a.removeObject(ctx, rec))
	}
	if err != nil {
		return CopyRecordingResult{}, err
	}
	a.Metrics.copied(size)
	activity.GetLogger(ctx).Info("recording copied", "tenant_id", in.TenantID, "contact_id", in.ContactID,
		"source", in.Location, "object", a.Bucket+"/"+key, "bytes", size)
	return res, nil
}

// copied returns the recording when an earlier attempt stored it: recorded
// in Postgres and present in MinIO with the recorded size.
func (a *Activities) copied(ctx context.Context, in CopyRecordingInput, key string) (CopyRecordingResult, bool, error) {
	recs, err := a.Conversations.Recordings(ctx, in.TenantID, in.ContactID)
	if err != nil {
		return CopyRecordingResult{}, false, err
	}
	for _, r := range recs {
		if r.SourceLocation != in.Location || r.CopiedAt == nil || r.ObjectKey != key || r.SizeBytes == nil {
			continue
		}
		st, err := a.MinIO.StatObject(ctx, r.ObjectBucket, r.ObjectKey, minio.StatObjectOptions{})
		if err != nil {
			if minio.ToErrorResponse(err).StatusCode == 404 {
				return CopyRecordingResult{}, false, nil
			}
			return CopyRecordingResult{}, false, fmt.Errorf("stat %s/%s: %w", r.ObjectBucket, r.ObjectKey, err)
		}
		if st.Size != *r.SizeBytes {
			return CopyRecordingResult{}, false, nil
		}
		return CopyRecordingResult{Bucket: r.ObjectBucket, Key: r.ObjectKey, SizeBytes: st.Size, ContentType: r.ContentType, SHA256: r.SHA256, Reused: true}, true, nil
	}
	return CopyRecordingResult{}, false, nil
}

// notYet handles a recording not in S3 yet (why says how S3 answered):
// within the wait window it records waiting_recording and asks Temporal to
// try again later; past it, it records recording_missing and fails for
// good.
func (a *Activities) notYet(ctx context.Context, in CopyRecordingInput, why error) error {
	now := time.Now()
	if !now.Before(in.WaitUntil) {
		detail := fmt.Sprintf("recording %s did not appear in S3 by %s", in.Location, in.WaitUntil.UTC().Format(time.RFC3339))
		if errors.Is(why, errDeniedOrMissing) {
			detail = fmt.Sprintf("recording %s: %v, until %s", in.Location, errDeniedOrMissing, in.WaitUntil.UTC().Format(time.RFC3339))
		}
		if err := a.setState(ctx, in.TenantID, in.ContactID, conversation.RecordingMissing, detail); err != nil {
			return err
		}
		return temporal.NewNonRetryableApplicationError(detail, ErrTypeRecordingMissing, nil)
	}
	if err := a.setState(ctx, in.TenantID, in.ContactID, conversation.WaitingRecording, in.Location); err != nil {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(why.Error(),
		ErrTypeRecordingNotFound, temporal.ApplicationErrorOptions{
			NextRetryDelay: nextCheck(activity.GetInfo(ctx).Attempt, in.WaitUntil.Sub(now)),
		})
}

// nextCheck is how long to wait after the attempt-th look found nothing:
// recordingFirstWait, doubling, at most recordingMaxWait, and never past
// the end of the window (left), so that the last look falls on it.
func nextCheck(attempt int32, left time.Duration) time.Duration {
	d := recordingFirstWait
	for i := int32(1); i < attempt && d < recordingMaxWait; i++ {
		d *= 2
	}
	return max(min(d, recordingMaxWait, left), time.Second)
}

// progressReader heartbeats the bytes read so far, so that Temporal sees a
// long copy alive and can deliver its cancellation; it stops reading once
// the activity's context ends.
type progressReader struct {
	ctx  context.Context
	r    io.Reader
	n    int64
	last time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if time.Since(p.last) >= heartbeatEvery {
		p.last = time.Now()
		activity.RecordHeartbeat(p.ctx, p.n)
	}
	return n, err
}
