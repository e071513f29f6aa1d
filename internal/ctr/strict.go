package ctr

import (
	"strings"
	"time"
	"unicode/utf8"
)

// What strict JSON allows beyond the grammar. Connect's records nest four or
// five levels deep and carry small numbers; Postgres's jsonb refuses NUL
// escapes, lone surrogates and numbers beyond its numeric type, and its
// parser and encoding/json give out at depths that differ.
const (
	maxDepth       = 32
	maxNumberBytes = 64
	maxExponent    = 308
)

// unescaped is what each one-letter escape stands for.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// routedKeys are the top-level fields routing reads. Each must appear at
// most once and only under its exact name: the gateway and the worker
// decode them with different parsers, and a duplicate or a look-alike
// (another case, or a Unicode fold such as U+017F for 's') could be read as
// different values by the two.
var routedKeys = [...]string{"ContactId", "InstanceARN", "LastUpdateTimestamp"}

// scan is the one definition of a well-formed record, applied by Identify
// at the gateway and by Parse in the worker alike. raw must already be
// known to be UTF-8 and to start with '{'. In one pass it checks that raw
// is strict JSON that every hop can store, that each field connect-ingest
// reads has the type the CTR model gives it, and that the routed fields
// are unambiguous, and it returns the routed fields. Its errors are
// *RejectErrors: ReasonNotJSON for bad syntax, ReasonUnstorable for JSON
// that Postgres refuses, ReasonAmbiguousField for a duplicate or look-alike
// routed key, and ReasonInvalidField for a field of the wrong type (the
// others first, wherever they are in the record).
func scan(raw []byte) (Identity, error) {
	s := strictScanner{b: raw}
	s.space()
	if err := s.value(0, ctrShape); err != nil {
		return Identity{}, err
	}
	s.space()
	if s.i != len(s.b) {
		return Identity{}, reject(ReasonNotJSON, "data after the JSON object at byte %d", s.i)
	}
	if s.typeErr != nil {
		return Identity{}, s.typeErr
	}
	return s.id, nil
}

type strictScanner struct {
	b []byte
	i int
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

func (s *strictScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *strictScanner) syntax(what string) error {
	if s.i >= len(s.b) {
		return reject(ReasonNotJSON, "record ends inside %s", what)
	}
	return reject(ReasonNotJSON, "unexpected %s at byte %d in %s", byteName(s.b[s.i]), s.i, what)
}

// value scans the value at s.i, which should be of shape sh (nil: any).
func (s *strictScanner) value(depth int, sh *shape) error {
	if s.i >= len(s.b) {
		return s.syntax("a value")
	}
	want := kindAny
	if sh != nil {
		want = sh.kind
	}
	start := s.i
	var err error
	var got string // the JSON type found, when it is not the one wanted
	switch c := s.b[s.i]; {
	case c == '{':
		members := sh
		if want != kindAny && want != kindObject && want != kindMap {
			members, got = nil, "an object"
		}
		err = s.object(depth+1, members)
	case c == '[':
		elem := (*shape)(nil)
		switch want {
		case kindAny:
		case kindArray:
			elem = sh.elem
		default:
			got = "an array"
		}
		err = s.array(depth+1, elem)
	case c == '"':
		if _, err = s.str(); err == nil {
			switch want {
			case kindAny, kindString:
			case kindTime:
				var t time.Time
				if t.UnmarshalJSON(s.b[start:s.i]) != nil {
					got = "a string that is not an RFC 3339 timestamp"
				}
			default:
				got = "a string"
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		err, got = s.number(), "a number"
	case c == 't':
		err, got = s.literal("true"), "a boolean"
	case c == 'f':
		err, got = s.literal("false"), "a boolean"
	case c == 'n':
		return s.literal("null")
	default:
		return s.syntax("a value")
	}
	if err != nil {
		return err
	}
	if got != "" && want != kindAny && s.typeErr == nil {
		s.typeErr = reject(ReasonInvalidField, "%s at byte %d holds %s, not %s", sh.name, start, got, want.noun())
	}
	return nil
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

func (s *strictScanner) literal(word string) error {
	if !strings.HasPrefix(string(s.b[s.i:min(len(s.b), s.i+len(word))]), word) {
		return s.syntax("a literal")
	}
	s.i += len(word)
	return nil
}

// object scans an object of shape sh: an object with fields, a map, or
// (nil) anything.
func (s *strictScanner) object(depth int, sh *shape) error {
	if depth > maxDepth {
		return reject(ReasonUnstorable, "nested deeper than %d levels", maxDepth)
	}
	s.i++ // '{'
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.syntax("an object key")
		}
		keyAt := s.i
		escaped, err := s.str()
		if err != nil {
			return err
		}
		var member *shape
		switch {
		case sh == nil:
		case sh.kind == kindMap:
			member = sh.elem
		default:
			key := s.b[keyAt+1 : s.i-1]
			if escaped {
				s.key = appendUnquoted(s.key[:0], key)
				key = s.key
			}
			member = sh.field(key, &s.lower)
			if member != nil && member.routed > 0 {
				if err := s.routed(key, member); err != nil {
					return err
				}
			}
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.syntax("an object")
		}
		s.i++
		s.space()
		valueAt := s.i
		if err := s.value(depth, member); err != nil {
			return err
		}
		if member != nil && member.routed > 0 {
			s.capture(member, s.b[valueAt:s.i])
		}
		s.space()
		if s.i >= len(s.b) {
			return s.syntax("an object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.syntax("an object")
		}
	}
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
		s.id.ContactID = string(appendUnquoted(nil, raw[1:len(raw)-1]))
	case "InstanceARN":
		s.id.InstanceARN = string(appendUnquoted(nil, raw[1:len(raw)-1]))
	case "LastUpdateTimestamp":
		_ = s.id.LastUpdateTimestamp.UnmarshalJSON(raw)
	}
}

// array scans an array whose elements are of shape elem (nil: any).
func (s *strictScanner) array(depth int, elem *shape) error {
	if depth > maxDepth {
		return reject(ReasonUnstorable, "nested deeper than %d levels", maxDepth)
	}
	s.i++ // '['
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.space()
		if err := s.value(depth, elem); err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.syntax("an array")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.syntax("an array")
		}
	}
}

// plain marks the bytes a string holds as they are: not a quote, a
// backslash or a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans a string at s.i and reports whether it holds escapes. It
// refuses control characters, bad escapes, \u0000 and surrogates that do
// not pair.
func (s *strictScanner) str() (escaped bool, err error) {
	s.i++ // '"'
	for {
		for s.i < len(s.b) && plain[s.b[s.i]] {
			s.i++
		}
		if s.i >= len(s.b) || s.b[s.i] < 0x20 {
			return false, s.syntax("a string")
		}
		if s.b[s.i] == '"' {
			s.i++
			return escaped, nil
		}
		// An escape.
		escaped = true
		if s.i+1 >= len(s.b) {
			return false, s.syntax("a string")
		}
		if unescaped[s.b[s.i+1]] != 0 {
			s.i += 2
			continue
		}
		if s.b[s.i+1] != 'u' {
			return false, s.syntax("a string escape")
		}
		r, ok := s.hex4(s.i + 2)
		if !ok {
			return false, s.syntax("a \\u escape")
		}
		s.i += 6
		switch {
		case r == 0:
			return false, reject(ReasonUnstorable, "a string holds \\u0000, which Postgres refuses")
		case r >= 0xDC00 && r <= 0xDFFF:
			return false, reject(ReasonUnstorable, "a string holds a lone low surrogate")
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := rune(0), s.i+6 <= len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u'
			if ok {
				lo, ok = s.hex4(s.i + 2)
			}
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false, reject(ReasonUnstorable, "a string holds a lone high surrogate")
			}
			s.i += 6
		}
	}
}

// appendUnquoted appends the value of a string's contents, scanned by str,
// to dst.
func appendUnquoted(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if raw[i+1] != 'u' {
			dst = append(dst, unescaped[raw[i+1]])
			i += 2
			continue
		}
		r := hexRune(raw[i+2 : i+6])
		i += 6
		if r >= 0xD800 && r <= 0xDBFF {
			r = 0x10000 + (r-0xD800)<<10 + (hexRune(raw[i+2:i+6]) - 0xDC00)
			i += 6
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

func hexRune(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case c <= '9':
			r |= rune(c - '0')
		case c >= 'a':
			r |= rune(c-'a') + 10
		default:
			r |= rune(c-'A') + 10
		}
	}
	return r
}

func (s *strictScanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans a JSON number, refusing one longer than maxNumberBytes or
// with an exponent beyond ±maxExponent.
func (s *strictScanner) number() error {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return s.syntax("a number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return s.syntax("a number")
		}
	}
	exp := 0
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		sign := 1
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			if s.b[s.i] == '-' {
				sign = -1
			}
			s.i++
		}
		from := s.i
		if s.digits() == 0 {
			return s.syntax("a number")
		}
		for _, c := range s.b[from:s.i] {
			if exp = exp*10 + int(c-'0'); exp > maxExponent {
				break
			}
		}
		exp *= sign
	}
	if s.i-start > maxNumberBytes || exp > maxExponent || exp < -maxExponent {
		return reject(ReasonUnstorable, "a number of %d bytes at byte %d is out of range", s.i-start, start)
	}
	return nil
}

func (s *strictScanner) digits() int {
	from := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - from
}

// byteName names a byte for a message without echoing control characters.
func byteName(b byte) string {
	if b >= 0x21 && b < 0x7f {
		return "'" + string(rune(b)) + "'"
	}
	if b >= utf8.RuneSelf {
		return "a non-ASCII character"
	}
	return "a control character"
}
