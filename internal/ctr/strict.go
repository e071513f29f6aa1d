package ctr

import (
	"errors"
	"time"

	"github.com/connectingest/connect-ingest/internal/jsonscan"
)

// routedKeys are the top-level fields routing reads. Each must appear at
// most once and only under its exact name: the gateway and the worker
// decode them with different parsers, and a duplicate or a look-alike
// (another case, or a Unicode fold such as U+017F for 's') could be read as
// different values by the two.
var routedKeys = [...]string{"ContactId", "InstanceARN", "LastUpdateTimestamp"}

// scan is the one definition of a well-formed record, applied by Identify
// at the gateway and by Parse in the worker alike. raw must already be
// known to be UTF-8 and to start with '{'. In one pass it checks that raw
// is strict JSON that every hop can store (see jsonscan), that each field
// connect-ingest reads has the type the CTR model gives it, and that the
// routed fields are unambiguous, and it returns the routed fields. Its
// errors are *RejectErrors: ReasonNotJSON for bad syntax, ReasonUnstorable
// for JSON that Postgres refuses, ReasonAmbiguousField for a duplicate or
// look-alike routed key, and ReasonInvalidField for a field of the wrong
// type (the others first, wherever they are in the record).
func scan(raw []byte) (Identity, error) {
	s := strictScanner{Scanner: jsonscan.Scanner{B: raw}}
	s.Space()
	err := s.value(0, ctrShape)
	if err == nil {
		if s.Space(); s.I != len(s.B) {
			err = reject(ReasonNotJSON, "data after the JSON object at byte %d", s.I)
		}
	}
	var je *jsonscan.Error
	switch {
	case errors.As(err, &je) && je.Unstorable:
		return Identity{}, reject(ReasonUnstorable, "record %s", je.Msg)
	case errors.As(err, &je):
		return Identity{}, reject(ReasonNotJSON, "record %s", je.Msg)
	case err != nil:
		return Identity{}, err
	case s.typeErr != nil:
		return Identity{}, s.typeErr
	}
	return s.id, nil
}

// strictScanner scans a record against the shapes of the CTR model.
type strictScanner struct {
	jsonscan.Scanner
	// seen marks the routed keys met at the top level; id holds their
	// values.
	seen [len(routedKeys)]bool
	id   Identity
	// typeErr is the first field found of the wrong type.
	typeErr *RejectError
	// lower and key are scratch space for matching keys to fields.
	lower [64]byte
	key   []byte
}

// value scans the value at s.I, which should be of shape sh (nil: any).
func (s *strictScanner) value(depth int, sh *shape) error {
	if sh == nil || sh.kind == kindAny {
		return s.Skip(depth)
	}
	if s.I >= len(s.B) {
		return s.Syntax("a value")
	}
	start := s.I
	var err error
	var got string // the JSON type found, when it is not the one wanted
	switch c := s.B[s.I]; {
	case c == '{' && (sh.kind == kindObject || sh.kind == kindMap):
		err = s.object(depth+1, sh)
	case c == '[' && sh.kind == kindArray:
		err = s.Elements(depth+1, func() error { return s.value(depth+1, sh.elem) })
	case c == '"' && (sh.kind == kindString || sh.kind == kindTime):
		if _, err = s.String(); err == nil && sh.kind == kindTime {
			var t time.Time
			if t.UnmarshalJSON(s.B[start:s.I]) != nil {
				got = "a string that is not an RFC 3339 timestamp"
			}
		}
	case c == 'n':
		return s.Literal("null")
	default:
		got = typeName(c)
		err = s.Skip(depth)
	}
	if err == nil && got != "" && s.typeErr == nil {
		s.typeErr = reject(ReasonInvalidField, "%s at byte %d holds %s, not %s", sh.name, start, got, sh.kind.noun())
	}
	return err
}

// typeName names the JSON type of a value by its first byte.
func typeName(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func (k kind) noun() string {
	switch k {
	case kindString:
		return "a string"
	case kindTime:
		return "an RFC 3339 timestamp"
	case kindObject, kindMap:
		return "an object"
	case kindArray:
		return "an array"
	}
	return "a value"
}

// object scans an object of shape sh: one with fields, or a map.
func (s *strictScanner) object(depth int, sh *shape) error {
	if sh.kind == kindMap {
		return s.Members(depth, func() error { return s.value(depth, sh.elem) })
	}
	return s.MembersKeyed(depth, func(key []byte, escaped bool) error {
		if escaped {
			s.key = jsonscan.AppendUnquoted(s.key[:0], key)
			key = s.key
		}
		f := sh.field(key, &s.lower)
		if f == nil || f.routed == 0 {
			return s.value(depth, f)
		}
		if err := s.routed(key, f); err != nil {
			return err
		}
		at := s.I
		if err := s.value(depth, f); err != nil {
			return err
		}
		s.capture(f, s.B[at:s.I])
		return nil
	})
}

// routed refuses a top-level key that duplicates a routed key or only
// folds to one.
func (s *strictScanner) routed(key []byte, f *shape) error {
	switch {
	case string(key) != f.name:
		return reject(ReasonAmbiguousField, "key %.80q is a look-alike of %s", key, f.name)
	case s.seen[f.routed-1]:
		return reject(ReasonAmbiguousField, "%s appears more than once", f.name)
	}
	s.seen[f.routed-1] = true
	return nil
}

// capture keeps a routed field's value, raw as scanned. A value of the
// wrong type is already noted; null leaves the field empty.
func (s *strictScanner) capture(f *shape, raw []byte) {
	if len(raw) == 0 || raw[0] != '"' {
		return
	}
	switch f.name {
	case "ContactId":
		s.id.ContactID = string(jsonscan.AppendUnquoted(nil, raw[1:len(raw)-1]))
	case "InstanceARN":
		s.id.InstanceARN = string(jsonscan.AppendUnquoted(nil, raw[1:len(raw)-1]))
	case "LastUpdateTimestamp":
		_ = s.id.LastUpdateTimestamp.UnmarshalJSON(raw)
	}
}
