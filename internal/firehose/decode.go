package firehose

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unsafe"
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

// bufPool recycles body buffers: a 500-record delivery is about 2 MiB, and
// allocating and zeroing that per request cost a tenth of the gateway's CPU.
// A decoded Request's records are views of its buffer, which it holds until
// Release.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf keeps the rare huge body's buffer out of the pool.
const maxPooledBuf = 8 << 20

func putBuf(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuf {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// maxPreGrow bounds what DecodeRequest allocates ahead of the bytes on a
// size hint. It covers Firehose's default 5 MiB buffer, so a delivery's
// body is read into one allocation rather than a buffer doubled as it fills
// (the copies and the zeroing were a tenth of the gateway's CPU whenever the
// pool came up empty); the gateway reads a body only for an authenticated
// tenant within its in-flight bounds, so the claim costs at most what that
// many honest bodies would.
const maxPreGrow = maxPooledBuf - bytes.MinRead

// DecodeRequest reads a delivery's JSON body. sizeHint, when positive, is
// the expected decoded size (Content-Length for a plain body); reading into a
// buffer of that size at once spares the copies of a growing one. Errors are
// a *MalformedError, ErrTooLarge, or a read error of the underlying body.
func DecodeRequest(body io.Reader, sizeHint int64) (Request, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	req, err := decodeInto(buf, body, sizeHint)
	if err != nil {
		putBuf(buf)
		return Request{}, err
	}
	req.buf = buf
	return req, nil
}

func decodeInto(buf *bytes.Buffer, body io.Reader, sizeHint int64) (Request, error) {
	if sizeHint > 0 {
		// A declared length is a claim, not bytes: grow for it only up to
		// maxPreGrow, and let the buffer grow with what really arrives.
		buf.Grow(int(min(sizeHint, maxPreGrow)) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return Request{}, classify(err)
	}
	if buf.Len() == 0 {
		return Request{}, malformed("body is empty")
	}
	// The body is read whole: whatever fails now is the body's fault.
	req, err := parseRequest(buf.Bytes())
	if err != nil {
		return Request{}, err
	}
	if req.RequestID == "" {
		return Request{}, malformed("body has no requestId")
	}
	if err := CheckRequestID(req.RequestID); err != nil {
		return Request{}, malformed("body requestId: %v", err)
	}
	return req, nil
}

// Release hands the request's body buffer back for reuse by a later
// DecodeRequest. The records' Data are views of that buffer: none may be
// used after Release. A caller that never calls it leaves the buffer to
// the garbage collector.
func (r *Request) Release() {
	if r.buf != nil {
		putBuf(r.buf)
		r.buf = nil
	}
}

func isFlate(err error) bool {
	var ce flate.CorruptInputError
	var ie flate.InternalError
	return errors.As(err, &ce) || errors.As(err, &ie)
}

// classify turns a decoding error into a *MalformedError where the body is at
// fault; ErrTooLarge and read errors of the underlying body pass through for
// the caller to answer.
func classify(err error) error {
	switch {
	case errors.Is(err, ErrTooLarge):
		return ErrTooLarge
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), isFlate(err):
		return malformed("body is not valid gzip: %v", err)
	case errors.Is(err, io.EOF):
		return malformed("body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("body ends early: %v", err)
	default:
		return err
	}
}

// DecodeData decodes one record's base64 data, refusing more than
// MaxRecordBytes.
func DecodeData(r Record) ([]byte, error) {
	return AppendData(nil, r)
}

// AppendData is DecodeData into dst's spare capacity, for callers that
// decode many records through one reused buffer.
func AppendData(dst []byte, r Record) ([]byte, error) {
	n := base64.StdEncoding.DecodedLen(len(r.Data))
	if n > MaxRecordBytes+2 {
		return nil, fmt.Errorf("%w: record is %d bytes of base64, over %d bytes decoded", ErrTooLarge, len(r.Data), MaxRecordBytes)
	}
	dst = slices.Grow(dst[:0], n)[:n]
	// Decode only reads its source, so a view of the string's bytes spares
	// copying every record's base64 text.
	src := unsafe.Slice(unsafe.StringData(r.Data), len(r.Data))
	m, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		return nil, err
	}
	if m > MaxRecordBytes {
		return nil, fmt.Errorf("%w: record is %d bytes decoded, over %d", ErrTooLarge, m, MaxRecordBytes)
	}
	return dst[:m], nil
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
