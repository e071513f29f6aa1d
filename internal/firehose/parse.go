package firehose

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/connectingest/connect-ingest/internal/jsonscan"
)

// parseRequest decodes a non-empty request body in one strict pass: UTF-8,
// and JSON as jsonscan checks it.
// The members Firehose sends are matched by name as encoding/json matches
// them (case-insensitively); a member given twice is refused, and others
// are checked and skipped. Each record's data is a slice of one copy
// of the body, so a 500-record delivery costs one allocation for its data,
// not one per record.
func parseRequest(body []byte) (Request, error) {
	if !utf8.Valid(body) {
		return Request{}, malformed("body is not valid UTF-8")
	}
	p := requestParser{Scanner: jsonscan.Scanner{B: body}, text: unsafe.String(&body[0], len(body))}
	req, err := p.request()
	var je *jsonscan.Error
	if errors.As(err, &je) {
		return Request{}, malformed("body is not a Firehose request: %s", je.Msg)
	}
	return req, err
}

type requestParser struct {
	jsonscan.Scanner
	// text is the body as a string, for slices of it.
	text string
	// key is scratch space for a key with escapes.
	key []byte
}

// is reports whether a member's key, raw as scanned, is name under
// Unicode case folding.
func (p *requestParser) is(key []byte, escaped bool, name string) bool {
	if escaped {
		p.key = jsonscan.AppendUnquoted(p.key[:0], key)
		key = p.key
	}
	return bytes.EqualFold(key, []byte(name))
}

// once refuses a member met before, and marks it met.
func once(seen *bool, name string) error {
	if *seen {
		return malformed("body has %s twice", name)
	}
	*seen = true
	return nil
}

func (p *requestParser) request() (Request, error) {
	var req Request
	var seenID, seenTime, seenRecords bool
	p.Space()
	if p.I >= len(p.B) || p.B[p.I] != '{' {
		return Request{}, malformed("body is not a Firehose request: not a JSON object")
	}
	err := p.MembersKeyed(1, func(key []byte, escaped bool) error {
		switch {
		case p.is(key, escaped, "requestId"):
			if err := once(&seenID, "requestId"); err != nil {
				return err
			}
			// The ID outlives the body's buffer: it is copied.
			err := p.str("requestId", &req.RequestID)
			req.RequestID = strings.Clone(req.RequestID)
			return err
		case p.is(key, escaped, "timestamp"):
			if err := once(&seenTime, "timestamp"); err != nil {
				return err
			}
			return p.int("timestamp", &req.Timestamp)
		case p.is(key, escaped, "records"):
			if err := once(&seenRecords, "records"); err != nil {
				return err
			}
			return p.records(&req.Records)
		}
		return p.Skip(1)
	})
	if err != nil {
		return Request{}, err
	}
	if p.Space(); p.I != len(p.B) {
		return Request{}, malformed("body has data after the JSON object at byte %d", p.I)
	}
	return req, nil
}

// records decodes the records array, refusing more than MaxRecords as soon
// as it meets one more.
func (p *requestParser) records(out *[]Record) error {
	if p.null() {
		return nil
	}
	if p.I >= len(p.B) || p.B[p.I] != '[' {
		return malformed("body's records is not an array")
	}
	*out = []Record{}
	return p.Elements(2, func() error {
		if len(*out) == MaxRecords {
			return malformed("body has more than the %d records Firehose sends", MaxRecords)
		}
		var rec Record
		if err := p.record(&rec); err != nil {
			return err
		}
		*out = append(*out, rec)
		return nil
	})
}

func (p *requestParser) record(rec *Record) error {
	if p.null() {
		return nil
	}
	if p.I >= len(p.B) || p.B[p.I] != '{' {
		return malformed("body has a record at byte %d that is not an object", p.I)
	}
	var seen bool
	return p.MembersKeyed(3, func(key []byte, escaped bool) error {
		if p.is(key, escaped, "data") {
			if err := once(&seen, "a record's data"); err != nil {
				return err
			}
			return p.str("data", &rec.Data)
		}
		return p.Skip(3)
	})
}

// str decodes a string member (null leaves it empty).
func (p *requestParser) str(name string, out *string) error {
	if p.null() {
		return nil
	}
	if p.I >= len(p.B) || p.B[p.I] != '"' {
		return malformed("body's %s at byte %d is not a string", name, p.I)
	}
	at := p.I
	escaped, err := p.String()
	if err != nil {
		return err
	}
	if escaped {
		*out = string(jsonscan.AppendUnquoted(nil, p.B[at+1:p.I-1]))
	} else {
		*out = p.text[at+1 : p.I-1]
	}
	return nil
}

// int decodes an integer member (null leaves it zero).
func (p *requestParser) int(name string, out *int64) error {
	if p.null() {
		return nil
	}
	at := p.I
	if p.I >= len(p.B) || (p.B[p.I] != '-' && (p.B[p.I] < '0' || p.B[p.I] > '9')) {
		return malformed("body's %s at byte %d is not a number", name, at)
	}
	if err := p.Number(); err != nil {
		return err
	}
	n, err := strconv.ParseInt(string(p.B[at:p.I]), 10, 64)
	if err != nil {
		return malformed("body's %s at byte %d is not a 64-bit integer", name, at)
	}
	*out = n
	return nil
}

// null scans a null, if that is what comes next.
func (p *requestParser) null() bool {
	if p.I < len(p.B) && p.B[p.I] == 'n' {
		return p.Literal("null") == nil
	}
	return false
}
