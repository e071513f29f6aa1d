package firehose_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/firehose"
)

func decode(t *testing.T, body []byte, encoding string, limit int64) (firehose.Request, error) {
	t.Helper()
	r, err := firehose.OpenBody(bytes.NewReader(body), encoding, limit)
	if err != nil {
		return firehose.Request{}, err
	}
	return firehose.DecodeRequest(r, 0)
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestDecodeRequest(t *testing.T) {
	body := firehose.EncodeRequest("req-1", 1732000000000, [][]byte{[]byte(`{"a":1}`), []byte("second")})

	t.Run("round-trips what EncodeRequest wrote", func(t *testing.T) {
		req, err := decode(t, body, "", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if req.RequestID != "req-1" || req.Timestamp != 1732000000000 || len(req.Records) != 2 {
			t.Fatalf("got %+v", req)
		}
		data, err := firehose.DecodeData(req.Records[1])
		if err != nil || string(data) != "second" {
			t.Fatalf("record 1 = %q, %v", data, err)
		}
	})

	t.Run("decompresses gzip", func(t *testing.T) {
		req, err := decode(t, gzipped(body), "gzip", 1<<20)
		if err != nil || len(req.Records) != 2 {
			t.Fatalf("got %+v, %v", req, err)
		}
	})

	t.Run("a body of exactly the limit passes and one byte more fails", func(t *testing.T) {
		if _, err := decode(t, body, "", int64(len(body))); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		if _, err := decode(t, body, "", int64(len(body))-2); !errors.Is(err, firehose.ErrTooLarge) {
			t.Fatalf("over the limit: err = %v, want ErrTooLarge", err)
		}
	})

	malformed := map[string]string{
		"empty body":             "",
		"not JSON":               "hello",
		"an array":               `[1,2]`,
		"no requestId":           `{"timestamp":1,"records":[]}`,
		"records not a list":     `{"requestId":"r","records":{}}`,
		"trailing data":          `{"requestId":"r","records":[]} {"x":1}`,
		"truncated":              `{"requestId":"r","records":[{"data":"`,
		"timestamp not numeric":  `{"requestId":"r","timestamp":"soon","records":[]}`,
		"timestamp fractional":   `{"requestId":"r","timestamp":1.5,"records":[]}`,
		"requestId twice":        `{"requestId":"r","records":[],"requestId":"s"}`,
		"records twice":          `{"requestId":"r","records":[],"Records":[{"data":"YQ=="}]}`,
		"data twice":             `{"requestId":"r","records":[{"data":"YQ==","DATA":"Yg=="}]}`,
		"a record not an object": `{"requestId":"r","records":["YQ=="]}`,
		"data not a string":      `{"requestId":"r","records":[{"data":5}]}`,
		"invalid UTF-8":          "{\"requestId\":\"r\",\"x\":\"\xff\",\"records\":[]}",
		"a bad escape":           `{"requestId":"r","x":"\q","records":[]}`,
		"too many records":       `{"requestId":"r","records":[` + strings.Repeat(`{"data":"YQ=="},`, firehose.MaxRecords) + `{"data":"YQ=="}]}`,
	}
	for name, b := range malformed {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := decode(t, []byte(b), "", 1<<20)
			var me *firehose.MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a MalformedError", err)
			}
		})
	}

	t.Run("reads members in any case, escaped data, and skips members it does not know", func(t *testing.T) {
		req, err := decode(t, []byte(`{"RequestId":"r","TIMESTAMP":7,"other":{"x":[1,null]},"records":[null,{"d\u0061ta":"YQ\/=","extra":true}]}`), "", 1<<20)
		if err != nil || req.RequestID != "r" || req.Timestamp != 7 || len(req.Records) != 2 || req.Records[0].Data != "" || req.Records[1].Data != "YQ/=" {
			t.Fatalf("got %+v, %v", req, err)
		}
	})

	t.Run("accepts a missing records list as empty", func(t *testing.T) {
		req, err := decode(t, []byte(`{"requestId":"r","timestamp":1}`), "", 1<<20)
		if err != nil || len(req.Records) != 0 {
			t.Fatalf("got %+v, %v", req, err)
		}
	})

	t.Run("refuses a body that claims gzip but is not", func(t *testing.T) {
		_, err := decode(t, body, "gzip", 1<<20)
		var me *firehose.MalformedError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "gzip") {
			t.Fatalf("err = %v, want a MalformedError about gzip", err)
		}
	})

	t.Run("passes read errors of the underlying body through", func(t *testing.T) {
		boom := errors.New("connection reset")
		r, _ := firehose.OpenBody(io.MultiReader(strings.NewReader(`{"requestId":`), errReader{boom}), "", 1<<20)
		if _, err := firehose.DecodeRequest(r, 0); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the read error", err)
		}
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestDecodeData(t *testing.T) {
	t.Run("refuses bad base64", func(t *testing.T) {
		if _, err := firehose.DecodeData(firehose.Record{Data: "%%%"}); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("refuses a record over 1,024,000 bytes decoded", func(t *testing.T) {
		body := firehose.EncodeRequest("r", 1, [][]byte{bytes.Repeat([]byte("x"), firehose.MaxRecordBytes+1)})
		req, err := firehose.DecodeRequest(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := firehose.DecodeData(req.Records[0]); !errors.Is(err, firehose.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("accepts a record of exactly 1,024,000 bytes", func(t *testing.T) {
		body := firehose.EncodeRequest("r", 1, [][]byte{bytes.Repeat([]byte("x"), firehose.MaxRecordBytes)})
		req, _ := firehose.DecodeRequest(bytes.NewReader(body), int64(len(body)))
		if b, err := firehose.DecodeData(req.Records[0]); err != nil || len(b) != firehose.MaxRecordBytes {
			t.Fatalf("got %d bytes, %v", len(b), err)
		}
	})
}
