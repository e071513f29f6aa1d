package ctr

import (
	"strings"
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
var routedKeys = []string{"ContactId", "InstanceARN", "LastUpdateTimestamp"}

// checkStrict reports why raw, already known to be UTF-8 and to start with
// '{', is not a record every hop can store: a *RejectError with
// ReasonNotJSON for bad syntax, ReasonUnstorable for JSON that Postgres
// refuses, or ReasonAmbiguousField for a duplicate or look-alike routed
// key. It is the one definition of a well-formed record, applied by
// Identify at the gateway and by Parse in the worker alike.
func checkStrict(raw []byte) error {
	s := strictScanner{b: raw}
	s.space()
	if err := s.value(0); err != nil {
		return err
	}
	s.space()
	if s.i != len(s.b) {
		return reject(ReasonNotJSON, "data after the JSON object at byte %d", s.i)
	}
	return nil
}

type strictScanner struct {
	b []byte
	i int
	// seen marks the routed keys met at the top level.
	seen [3]bool
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

func (s *strictScanner) value(depth int) error {
	if s.i >= len(s.b) {
		return s.syntax("a value")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, err := s.str(false)
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.syntax("a value")
}

func (s *strictScanner) literal(word string) error {
	if !strings.HasPrefix(string(s.b[s.i:min(len(s.b), s.i+len(word))]), word) {
		return s.syntax("a literal")
	}
	s.i += len(word)
	return nil
}

func (s *strictScanner) object(depth int) error {
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
		key, err := s.str(depth == 1)
		if err != nil {
			return err
		}
		if depth == 1 {
			if err := s.routed(key); err != nil {
				return err
			}
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.syntax("an object")
		}
		s.i++
		s.space()
		if err := s.value(depth); err != nil {
			return err
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
func (s *strictScanner) routed(key string) error {
	for i, want := range routedKeys {
		switch {
		case key == want && s.seen[i]:
			return reject(ReasonAmbiguousField, "%s appears more than once", want)
		case key == want:
			s.seen[i] = true
		case strings.EqualFold(key, want):
			return reject(ReasonAmbiguousField, "key %.80q is a look-alike of %s", key, want)
		}
	}
	return nil
}

func (s *strictScanner) array(depth int) error {
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
		if err := s.value(depth); err != nil {
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

// str scans a string at s.i and, when keep is set, returns its decoded
// value (for top-level keys). It refuses control characters, bad escapes,
// \u0000 and surrogates that do not pair.
func (s *strictScanner) str(keep bool) (string, error) {
	s.i++ // '"'
	var out strings.Builder
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return out.String(), nil
		case c < 0x20:
			return "", s.syntax("a string")
		case c != '\\':
			if keep {
				out.WriteByte(c)
			}
			s.i++
			continue
		}
		// An escape.
		if s.i+1 >= len(s.b) {
			return "", s.syntax("a string")
		}
		switch e := s.b[s.i+1]; e {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			if keep {
				out.WriteByte(unescaped[e])
			}
			s.i += 2
		case 'u':
			r, ok := s.hex4(s.i + 2)
			if !ok {
				return "", s.syntax("a \\u escape")
			}
			s.i += 6
			switch {
			case r == 0:
				return "", reject(ReasonUnstorable, "a string holds \\u0000, which Postgres refuses")
			case r >= 0xDC00 && r <= 0xDFFF:
				return "", reject(ReasonUnstorable, "a string holds a lone low surrogate")
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := rune(0), s.i+6 <= len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u'
				if ok {
					lo, ok = s.hex4(s.i + 2)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return "", reject(ReasonUnstorable, "a string holds a lone high surrogate")
				}
				s.i += 6
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			}
			if keep {
				out.WriteRune(r)
			}
		default:
			return "", s.syntax("a string escape")
		}
	}
	return "", s.syntax("a string")
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
