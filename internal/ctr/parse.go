package ctr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"unicode/utf8"
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
)

// Reasons lists every reason, for metrics that should show zero counts too.
var Reasons = []Reason{
	ReasonBadBase64, ReasonTooLarge, ReasonInvalidUTF8, ReasonNotJSON, ReasonMissingContactID,
	ReasonInvalidContactID, ReasonMissingTimestamp, ReasonInstanceMismatch,
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

// Parse decodes one CTR and checks the fields routing depends on: a JSON
// object in valid UTF-8, a well-formed ContactId and a LastUpdateTimestamp.
// Every error it returns is a *RejectError.
func Parse(raw []byte) (CTR, error) {
	if !utf8.Valid(raw) {
		return CTR{}, reject(ReasonInvalidUTF8, "record is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return CTR{}, reject(ReasonNotJSON, "record is not a JSON object")
	}
	var c CTR
	if err := json.Unmarshal(trimmed, &c); err != nil {
		return CTR{}, reject(ReasonNotJSON, "%v", err)
	}
	if c.ContactID == "" {
		return CTR{}, reject(ReasonMissingContactID, "record has no ContactId")
	}
	if !contactIDPattern.MatchString(c.ContactID) {
		return CTR{}, reject(ReasonInvalidContactID, "ContactId %.80q is not an Amazon Connect contact ID", c.ContactID)
	}
	if c.LastUpdateTimestamp.IsZero() {
		return CTR{}, reject(ReasonMissingTimestamp, "contact %s has no LastUpdateTimestamp", c.ContactID)
	}
	return c, nil
}

// CheckInstance refuses a CTR from another Connect instance than the tenant's:
// the tenant comes from the access key, never from the record.
func CheckInstance(c CTR, tenantInstanceARN string) error {
	if c.InstanceARN != tenantInstanceARN {
		return reject(ReasonInstanceMismatch, "contact %s is from instance %.200q, not the tenant's", c.ContactID, c.InstanceARN)
	}
	return nil
}
