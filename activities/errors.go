package activities

// Error types of failures that retrying cannot fix. Workflows match on them;
// they are stable strings because they travel in Temporal histories.
const (
	// ErrTypeMalformedCTR: the CTR cannot be decoded into a conversation.
	ErrTypeMalformedCTR = "MalformedCTR"
	// ErrTypeLocationNotAllowed: a recording location is outside the
	// tenant's buckets or tries to escape its bucket.
	ErrTypeLocationNotAllowed = "RecordingLocationNotAllowed"
	// ErrTypeRecordingNotFound: the recording is not (yet) in S3. The
	// workflow waits with durable timers and asks again.
	ErrTypeRecordingNotFound = "RecordingNotFound"
	// ErrTypeTenantNotFound: the tenant was removed.
	ErrTypeTenantNotFound = "TenantNotFound"
)
