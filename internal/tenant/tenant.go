// Package tenant is the one home of a tenant's settings and their rules:
// what a tenant ID, an instance ARN and a recording bucket may look like,
// the agent-sync interval and its default. The store refuses to save a
// tenant that breaks them, so a mistake is caught when an operator types it,
// not when the first call arrives.
package tenant

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/connectingest/connect-ingest/internal/agents"
)

// Tenant is one Amazon Connect instance of one customer.
type Tenant struct {
	ID   string
	Name string
	// InstanceARN is the tenant's primary instance, RecordingBuckets its
	// buckets; Instances are any more (see Instance).
	InstanceARN      string
	RecordingBuckets []string
	Instances        []Instance
	// AWSEndpointURL overrides AWS's endpoints (a local stand-in); empty
	// means real AWS.
	AWSEndpointURL string
	// ConnectEndpointURL overrides the Amazon Connect API endpoint (a
	// local stand-in); empty means real AWS.
	ConnectEndpointURL string
	// AWSRoleARN, when set, is assumed with AWSExternalID to reach the
	// tenant's account.
	AWSRoleARN    string
	AWSExternalID string
	// AgentFilter selects which Connect users become agents.
	AgentFilter agents.Filter
	// SyncInterval is how often the agent sync runs; zero means
	// DefaultSyncInterval.
	SyncInterval time.Duration
	// SyncDisabled stops the agent sync for this tenant.
	SyncDisabled bool
	// RetentionDays, when above zero, is how many days the tenant's
	// conversations are kept after the call ended; a daily retention run
	// erases older ones. Zero keeps them until erased on request.
	RetentionDays int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DefaultSyncInterval is how often a tenant's agents are synced unless it
// says otherwise.
const DefaultSyncInterval = 15 * time.Minute

// MinSyncInterval is the shortest agent-sync interval; the database
// enforces it too.
const MinSyncInterval = time.Minute

var (
	idPattern          = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	instanceARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/[A-Za-z0-9-]+$`)
	roleARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	// bucketPattern is S3's rule for bucket names.
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// ErrInvalid is wrapped by every error Validate returns.
var ErrInvalid = errors.New("invalid tenant settings")

// ValidID reports whether id may name a tenant: it appears in workflow IDs,
// object keys and search attributes.
func ValidID(id string) bool {
	return idPattern.MatchString(id)
}

// ValidBucketName reports whether name follows S3's rules for bucket names.
func ValidBucketName(name string) bool {
	return bucketPattern.MatchString(name) && !strings.Contains(name, "..")
}

// WithDefaults returns t with its defaults filled in: the default sync
// interval, and an empty (not nil) list of buckets for a tenant that has
// none yet (chat only).
func (t Tenant) WithDefaults() Tenant {
	if t.RecordingBuckets == nil {
		t.RecordingBuckets = []string{}
	}
	if t.SyncInterval == 0 {
		t.SyncInterval = DefaultSyncInterval
	}
	return t
}

// Validate reports the first setting of t that breaks a rule, naming the
// setting as ingestctl's flag does. It judges t with its defaults filled
// in.
func (t Tenant) Validate() error {
	t = t.WithDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	if !ValidID(t.ID) {
		return bad("tenant ID %q: want lower-case letters, digits, - and _, at most 63", t.ID)
	}
	if t.Name == "" {
		return bad("--name: a tenant needs a display name")
	}
	if !instanceARNPattern.MatchString(t.InstanceARN) {
		return bad("--instance-arn %q: want arn:aws:connect:REGION:ACCOUNT:instance/ID", t.InstanceARN)
	}
	for _, b := range t.RecordingBuckets {
		if !ValidBucketName(b) {
			return bad("--recording-bucket %q: not an S3 bucket name (3-63 lower-case letters, digits, '.' and '-')", b)
		}
	}
	for flag, u := range map[string]string{"--aws-endpoint-url": t.AWSEndpointURL, "--connect-endpoint-url": t.ConnectEndpointURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return bad("%s %q: want an http(s) URL", flag, u)
		}
	}
	if t.AWSRoleARN != "" && !roleARNPattern.MatchString(t.AWSRoleARN) {
		return bad("--aws-role-arn %q: want arn:aws:iam::ACCOUNT:role/NAME", t.AWSRoleARN)
	}
	if t.AWSExternalID != "" && t.AWSRoleARN == "" {
		return bad("--aws-external-id needs --aws-role-arn")
	}
	if t.SyncInterval < MinSyncInterval {
		return bad("--sync-interval %s: want at least %s", t.SyncInterval, MinSyncInterval)
	}
	if err := t.AgentFilter.Validate(); err != nil {
		return bad("agent filter: %v", err)
	}
	if t.RetentionDays < 0 || t.RetentionDays > MaxRetentionDays {
		return bad("--retention %dd: want 1d to %dd, or none", t.RetentionDays, MaxRetentionDays)
	}
	return nil
}

// MaxRetentionDays is the longest retention a tenant can set: ten years.
const MaxRetentionDays = 3660

// ParseRetention reads a retention period as operators write it: a number
// of days such as "90d", or "none" (or "0d") to keep conversations until
// they are erased on request. It returns the number of days, zero for none.
func ParseRetention(s string) (int, error) {
	if s == "none" {
		return 0, nil
	}
	digits, ok := strings.CutSuffix(s, "d")
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || n < 0 || digits == "" || digits[0] == '+' {
		return 0, fmt.Errorf("retention %q: want a number of days such as 90d, or none", s)
	}
	if n > MaxRetentionDays {
		return 0, fmt.Errorf("retention %q: at most %dd", s, MaxRetentionDays)
	}
	return n, nil
}

// FormatRetention writes days as ParseRetention reads them.
func FormatRetention(days int) string {
	if days <= 0 {
		return "none"
	}
	return strconv.Itoa(days) + "d"
}
