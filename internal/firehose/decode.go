package firehose

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrTooLarge is returned when a body exceeds a size bound, compressed or not.
var ErrTooLarge = errors.New("request body too large")

// MalformedError is a request that does not follow the protocol. The gateway
// answers it with 400.
type MalformedError struct {
	msg string
}

func (e *MalformedError) Error() string { return e.msg }

func malformed(format string, args ...any) error {
	return &MalformedError{msg: fmt.Sprintf(format, args...)}
}

// OpenBody returns a reader of the request body's JSON. With Content-Encoding
// gzip it decompresses, and in every case it fails with ErrTooLarge past
// maxDecoded bytes, so a gzip bomb costs at most that much.
func OpenBody(body io.Reader, contentEncoding string, maxDecoded int64) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, malformed("body is not valid gzip: %v", err)
		}
		body = zr
	default:
		return nil, malformed("unsupported Content-Encoding %.40q", contentEncoding)
	}
	return &limitedReader{r: body, left: maxDecoded}, nil
}

// limitedReader is io.LimitReader that says so when the limit is passed,
// instead of ending the stream quietly.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a body of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// DecodeRequest reads a delivery's JSON body. Errors are a *MalformedError,
// ErrTooLarge, or a read error of the underlying body.
func DecodeRequest(body io.Reader) (Request, error) {
	dec := json.NewDecoder(body)
	var req Request
	if err := dec.Decode(&req); err != nil {
		return Request{}, classify(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil && !isSyntax(err) {
			return Request{}, classify(err)
		}
		return Request{}, malformed("body has data after the JSON object")
	}
	if req.RequestID == "" {
		return Request{}, malformed("body has no requestId")
	}
	if len(req.Records) > MaxRecords {
		return Request{}, malformed("body has %d records, more than the %d Firehose sends", len(req.Records), MaxRecords)
	}
	return req, nil
}

func isSyntax(err error) bool {
	var se *json.SyntaxError
	var ue *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF)
}

// classify turns a decoding error into a *MalformedError where the body is at
// fault; ErrTooLarge and read errors of the underlying body pass through for
// the caller to answer.
func classify(err error) error {
	switch {
	case errors.Is(err, ErrTooLarge):
		return ErrTooLarge
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return malformed("body is not valid gzip: %v", err)
	case errors.Is(err, io.EOF):
		return malformed("body is empty")
	case isSyntax(err):
		return malformed("body is not a Firehose request: %v", err)
	default:
		return err
	}
}

// DecodeData decodes one record's base64 data, refusing more than
// MaxRecordBytes.
func DecodeData(r Record) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(r.Data)) > MaxRecordBytes+2 {
		return nil, fmt.Errorf("%w: record is %d bytes of base64, over %d bytes decoded", ErrTooLarge, len(r.Data), MaxRecordBytes)
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRecordBytes {
		return nil, fmt.Errorf("%w: record is %d bytes decoded, over %d", ErrTooLarge, len(b), MaxRecordBytes)
	}
	return b, nil
}

// EncodeRequest is the inverse of DecodeRequest, for the Connect stand-in and
// tests: it base64-encodes each record into a delivery body.
func EncodeRequest(requestID string, timestampMillis int64, records [][]byte) []byte {
	req := Request{RequestID: requestID, Timestamp: timestampMillis, Records: make([]Record, len(records))}
	for i, r := range records {
		req.Records[i] = Record{Data: base64.StdEncoding.EncodeToString(r)}
	}
	var buf bytes.Buffer
	// Encoding a struct of strings and numbers cannot fail.
	_ = json.NewEncoder(&buf).Encode(req)
	return buf.Bytes()
}
