package ctr

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// Reason names why a record was refused. Reasons are stable strings: they are
// stored with quarantined records and used as metric labels.
type Reason string

// The reasons a Firehose record can be refused.
const (
	ReasonBadBase64        Reason = "bad_base64"
	ReasonTooLarge         Reason = "too_large"
	ReasonInvalidUTF8      Reason = "invalid_utf8"
	ReasonNotJSON          Reason = "not_json"
	ReasonMissingContactID Reason = "missing_contact_id"
	ReasonInvalidContactID Reason = "invalid_contact_id"
	ReasonMissingTimestamp Reason = "missing_last_update_timestamp"
	ReasonInstanceMismatch Reason = "instance_mismatch"
	// ReasonUnstorable: valid JSON that Postgres would refuse (a \u0000
	// escape, a lone surrogate, a number out of range) or nested deeper
	// than any CTR.
	ReasonUnstorable Reason = "unstorable_json"
	// ReasonAmbiguousField: a routed field (ContactId, InstanceARN,
	// LastUpdateTimestamp) that appears twice, or under a look-alike name.
	ReasonAmbiguousField Reason = "ambiguous_field"
	// ReasonInvalidField: a field connect-ingest reads has the wrong type
	// (a number where Connect writes text, a timestamp that is not one).
	ReasonInvalidField Reason = "invalid_field"
)

// Reasons lists every reason, for metrics that should show zero counts too.
var Reasons = []Reason{
	ReasonBadBase64, ReasonTooLarge, ReasonInvalidUTF8, ReasonNotJSON, ReasonMissingContactID,
	ReasonInvalidContactID, ReasonMissingTimestamp, ReasonInstanceMismatch, ReasonUnstorable, ReasonAmbiguousField, ReasonInvalidField,
}

// RejectError is a record that can never succeed, with the reason and a
// human-readable detail.
type RejectError struct {
	Reason Reason
	Detail string
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
}

func reject(r Reason, format string, args ...any) *RejectError {
	return &RejectError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// contactIDPattern is what Amazon Connect issues (UUIDs). The contact ID ends
// up in workflow IDs and object keys, so anything else is refused rather than
// escaped.
var contactIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,255}$`)

// ValidContactID reports whether id is shaped like an Amazon Connect
// contact ID.
func ValidContactID(id string) bool {
	return contactIDPattern.MatchString(id)
}

// Identity is what routing a CTR needs: which contact, which version, and
// which Connect instance it claims to come from.
type Identity struct {
	ContactID           string
	InstanceARN         string
	LastUpdateTimestamp time.Time
}

// Identify is how the gateway routes a record: it validates it exactly as
// the worker's Parse does (the same scan: one definition of a valid record,
// applied at the edge, so that whatever the gateway accepts the worker can
// process) and returns its identity, without decoding the rest. Every
// error it returns is a *RejectError.
func Identify(raw []byte) (Identity, error) {
	id, _, err := identify(raw)
	return id, err
}

// Parse validates one record as Identify does and decodes every field
// connect-ingest reads. Every error it returns is a *RejectError.
func Parse(raw []byte) (CTR, error) {
	_, trimmed, err := identify(raw)
	if err != nil {
		return CTR{}, err
	}
	var c CTR
	if err := gojson.Unmarshal(trimmed, &c); err != nil {
		// The scan checked the syntax and every field's type: the
		// decoder refusing what it passed is a bug, which
		// FuzzRouterAgreesWithParser looks for. The record is refused
		// all the same.
		return CTR{}, reject(ReasonInvalidField, "%.300v", err)
	}
	return c, nil
}

// identify checks that raw is valid UTF-8 and a JSON object that passes
// scan, with valid routed fields, and returns its identity and the object
// trimmed of white space.
func identify(raw []byte) (Identity, []byte, error) {
	if !utf8.Valid(raw) {
		return Identity{}, nil, reject(ReasonInvalidUTF8, "record is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Identity{}, nil, reject(ReasonNotJSON, "record is not a JSON object")
	}
	id, err := scan(trimmed)
	if err != nil {
		return Identity{}, nil, err
	}
	if err := id.validate(); err != nil {
		return Identity{}, nil, err
	}
	return id, trimmed, nil
}

// validate checks the fields routing depends on.
func (id Identity) validate() error {
	if id.ContactID == "" {
		return reject(ReasonMissingContactID, "record has no ContactId")
	}
	if !contactIDPattern.MatchString(id.ContactID) {
		return reject(ReasonInvalidContactID, "ContactId %.80q is not an Amazon Connect contact ID", id.ContactID)
	}
	if id.LastUpdateTimestamp.IsZero() {
		return reject(ReasonMissingTimestamp, "contact %s has no LastUpdateTimestamp", id.ContactID)
	}
	return nil
}

// CheckInstance refuses a CTR from an Amazon Connect instance that is not
// one of the tenant's (instanceARNs): the tenant comes from the access key,
// never from the record.
func CheckInstance(id Identity, instanceARNs []string) error {
	if !slices.Contains(instanceARNs, id.InstanceARN) {
		return reject(ReasonInstanceMismatch, "contact %s is from instance %.200q, not one of the tenant's", id.ContactID, id.InstanceARN)
	}
	return nil
}
