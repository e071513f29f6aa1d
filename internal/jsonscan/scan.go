// Package jsonscan checks strict JSON (RFC 8259) in one pass over the bytes,
// without decoding it, and refuses what Postgres's jsonb cannot store: the
// \u0000 escape, surrogates that do not pair, numbers beyond its range, and
// nesting deeper than any record needs. It leaves checking UTF-8 to its
// callers, which do it for the whole document at once. The CTR parser and
// the Firehose request decoder build on it.
package jsonscan

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// What strict JSON allows beyond the grammar.
const (
	// MaxDepth bounds nesting: Connect's records nest four or five levels,
	// and Postgres's parser and encoding/json give out at depths that
	// differ.
	MaxDepth = 32
	// MaxNumberBytes and MaxExponent bound numbers to what Postgres's
	// numeric type holds, with room to spare.
	MaxNumberBytes = 64
	MaxExponent    = 308
)

// Error is why a document is refused: bad syntax, or valid JSON that
// cannot be stored.
type Error struct {
	// Unstorable is set for valid JSON that Postgres refuses or that nests
	// too deep; otherwise the syntax is wrong.
	Unstorable bool
	Msg        string
}

func (e *Error) Error() string { return e.Msg }

func unstorable(format string, args ...any) error {
	return &Error{Unstorable: true, Msg: fmt.Sprintf(format, args...)}
}

// Scanner walks a document. B is the document, I the offset of the next
// byte to read. Its methods each scan one thing at I and leave I after it.
type Scanner struct {
	B []byte
	I int
}

// Space skips white space.
func (s *Scanner) Space() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Syntax returns the syntax error of an unexpected byte (or end) at I,
// inside what.
func (s *Scanner) Syntax(what string) error {
	if s.I >= len(s.B) {
		return &Error{Msg: "ends inside " + what}
	}
	return &Error{Msg: fmt.Sprintf("unexpected %s at byte %d in %s", ByteName(s.B[s.I]), s.I, what)}
}

// TooDeep returns the error of nesting past MaxDepth when depth is past
// it, and nil otherwise.
func TooDeep(depth int) error {
	if depth > MaxDepth {
		return unstorable("nested deeper than %d levels", MaxDepth)
	}
	return nil
}

// Literal scans the literal word (true, false or null).
func (s *Scanner) Literal(word string) error {
	if !strings.HasPrefix(string(s.B[s.I:min(len(s.B), s.I+len(word))]), word) {
		return s.Syntax("a literal")
	}
	s.I += len(word)
	return nil
}

// Skip scans any value, nested depth levels deep already.
func (s *Scanner) Skip(depth int) error {
	if s.I >= len(s.B) {
		return s.Syntax("a value")
	}
	switch c := s.B[s.I]; {
	case c == '{':
		return s.Members(depth+1, func() error { return s.Skip(depth + 1) })
	case c == '[':
		return s.Elements(depth+1, func() error { return s.Skip(depth + 1) })
	case c == '"':
		_, err := s.String()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.Number()
	case c == 't':
		return s.Literal("true")
	case c == 'f':
		return s.Literal("false")
	case c == 'n':
		return s.Literal("null")
	}
	return s.Syntax("a value")
}

// Members scans an object at depth, calling member to scan each member's
// value.
func (s *Scanner) Members(depth int, member func() error) error {
	return s.MembersKeyed(depth, func([]byte, bool) error { return member() })
}

// MembersKeyed scans an object at depth, calling member for each member's
// value with the key's raw contents (between the quotes) and whether they
// hold escapes (see AppendUnquoted).
func (s *Scanner) MembersKeyed(depth int, member func(key []byte, escaped bool) error) error {
	empty, err := s.open(depth, '}')
	if empty || err != nil {
		return err
	}
	for {
		s.Space()
		if s.I >= len(s.B) || s.B[s.I] != '"' {
			return s.Syntax("an object key")
		}
		keyAt := s.I
		escaped, err := s.String()
		if err != nil {
			return err
		}
		key := s.B[keyAt+1 : s.I-1]
		s.Space()
		if s.I >= len(s.B) || s.B[s.I] != ':' {
			return s.Syntax("an object")
		}
		s.I++
		s.Space()
		if err := member(key, escaped); err != nil {
			return err
		}
		if more, err := s.next('}', "an object"); !more || err != nil {
			return err
		}
	}
}

// Elements scans an array at depth, calling elem for each element.
func (s *Scanner) Elements(depth int, elem func() error) error {
	empty, err := s.open(depth, ']')
	if empty || err != nil {
		return err
	}
	for {
		s.Space()
		if err := elem(); err != nil {
			return err
		}
		if more, err := s.next(']', "an array"); !more || err != nil {
			return err
		}
	}
}

// open scans the opening byte of a container at depth, and its closing
// byte too when the container is empty, which it reports.
func (s *Scanner) open(depth int, closing byte) (empty bool, err error) {
	if err := TooDeep(depth); err != nil {
		return false, err
	}
	s.I++ // '{' or '['
	s.Space()
	if s.I < len(s.B) && s.B[s.I] == closing {
		s.I++
		return true, nil
	}
	return false, nil
}

// next scans what follows a member or element of a container (what):
// a comma, after which there is more, or its closing byte.
func (s *Scanner) next(closing byte, what string) (more bool, err error) {
	s.Space()
	switch {
	case s.I >= len(s.B):
		return false, s.Syntax(what)
	case s.B[s.I] == ',':
		s.I++
		return true, nil
	case s.B[s.I] == closing:
		s.I++
		return false, nil
	}
	return false, s.Syntax(what)
}

// unescaped is what each one-letter escape stands for.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// plain marks the bytes a string holds as they are: not a quote, a
// backslash or a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// String scans a string and reports whether it holds escapes. It refuses
// control characters, bad escapes, \u0000 and surrogates that do not pair.
func (s *Scanner) String() (escaped bool, err error) {
	s.I++ // '"'
	for {
		s.skipPlain()
		if s.I >= len(s.B) || s.B[s.I] < 0x20 {
			return false, s.Syntax("a string")
		}
		if s.B[s.I] == '"' {
			s.I++
			return escaped, nil
		}
		// An escape.
		escaped = true
		if s.I+1 >= len(s.B) {
			return false, s.Syntax("a string")
		}
		if unescaped[s.B[s.I+1]] != 0 {
			s.I += 2
			continue
		}
		if s.B[s.I+1] != 'u' {
			return false, s.Syntax("a string escape")
		}
		r, ok := hex4(s.B, s.I+2)
		if !ok {
			return false, s.Syntax("a \\u escape")
		}
		s.I += 6
		switch {
		case r == 0:
			return false, unstorable("a string holds \\u0000, which Postgres refuses")
		case r >= 0xDC00 && r <= 0xDFFF:
			return false, unstorable("a string holds a lone low surrogate")
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := rune(0), s.I+6 <= len(s.B) && s.B[s.I] == '\\' && s.B[s.I+1] == 'u'
			if ok {
				lo, ok = hex4(s.B, s.I+2)
			}
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false, unstorable("a string holds a lone high surrogate")
			}
			s.I += 6
		}
	}
}

// Bit patterns for looking at eight bytes at once.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// skipPlain moves past the plain bytes at I: eight at a time while none of
// the eight is special, then one at a time.
func (s *Scanner) skipPlain() {
	for s.I+8 <= len(s.B) {
		x := binary.LittleEndian.Uint64(s.B[s.I:])
		q, b := x^(ones*'"'), x^(ones*'\\')
		// A byte's high bit is set in special where the byte is below
		// 0x20, a quote or a backslash (haszero and hasless, from "Bit
		// Twiddling Hacks"); a set bit may also follow a special byte,
		// which only ends the fast path early.
		special := ((x - ones*0x20) &^ x) | ((q - ones) &^ q) | ((b - ones) &^ b)
		if special&highs != 0 {
			break
		}
		s.I += 8
	}
	for s.I < len(s.B) && plain[s.B[s.I]] {
		s.I++
	}
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
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

// AppendUnquoted appends the value of a string's raw contents, as String
// scanned them (between the quotes), to dst.
func AppendUnquoted(dst, raw []byte) []byte {
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
		r, _ := hex4(raw, i+2)
		i += 6
		if r >= 0xD800 && r <= 0xDBFF {
			lo, _ := hex4(raw, i+2)
			r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			i += 6
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// Number scans a number, refusing one longer than MaxNumberBytes or with an
// exponent beyond ±MaxExponent.
func (s *Scanner) Number() error {
	start := s.I
	if s.B[s.I] == '-' {
		s.I++
	}
	switch {
	case s.I < len(s.B) && s.B[s.I] == '0':
		s.I++
	case s.I < len(s.B) && s.B[s.I] >= '1' && s.B[s.I] <= '9':
		s.digits()
	default:
		return s.Syntax("a number")
	}
	if s.I < len(s.B) && s.B[s.I] == '.' {
		s.I++
		if s.digits() == 0 {
			return s.Syntax("a number")
		}
	}
	exp := 0
	if s.I < len(s.B) && (s.B[s.I] == 'e' || s.B[s.I] == 'E') {
		s.I++
		sign := 1
		if s.I < len(s.B) && (s.B[s.I] == '+' || s.B[s.I] == '-') {
			if s.B[s.I] == '-' {
				sign = -1
			}
			s.I++
		}
		from := s.I
		if s.digits() == 0 {
			return s.Syntax("a number")
		}
		for _, c := range s.B[from:s.I] {
			if exp = exp*10 + int(c-'0'); exp > MaxExponent {
				break
			}
		}
		exp *= sign
	}
	if s.I-start > MaxNumberBytes || exp > MaxExponent || exp < -MaxExponent {
		return unstorable("a number of %d bytes at byte %d is out of range", s.I-start, start)
	}
	return nil
}

func (s *Scanner) digits() int {
	from := s.I
	for s.I < len(s.B) && s.B[s.I] >= '0' && s.B[s.I] <= '9' {
		s.I++
	}
	return s.I - from
}

// ByteName names a byte for a message without echoing control characters
// or partial UTF-8.
func ByteName(b byte) string {
	if b >= 0x21 && b < 0x7f {
		return "'" + string(rune(b)) + "'"
	}
	if b >= utf8.RuneSelf {
		return "a non-ASCII character"
	}
	return "a control character"
}
