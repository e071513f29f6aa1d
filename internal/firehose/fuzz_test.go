package firehose_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/connectingest/connect-ingest/internal/firehose"
)

// FuzzDecodeRequest checks that no body, plain or claiming gzip, makes the
// decoder panic or exceed its bound, that every failure is classified, and
// that whatever it accepts encoding/json, as an independent oracle, decodes
// to the same request.
func FuzzDecodeRequest(f *testing.F) {
	f.Add(firehose.EncodeRequest("r", 1, [][]byte{[]byte(`{"ContactId":"x"}`)}), false)
	f.Add([]byte(`{"requestId":"r","timestamp":1,"records":[]}`), false)
	f.Add([]byte(`{"requestId":"r","records":[{"data":"!!"}]}`), false)
	f.Add([]byte(`{"requestId":"r"} trailing`), false)
	f.Add([]byte(`{"REQUESTID":"r","Records":[null,{"d\u0061ta":"YQ==","x":[1,{}]}],"timestamp":-5}`), false)
	f.Add([]byte(`{"requestId":"r","records":[{"data":"YQ\/="}],"requestId":"s"}`), false)
	f.Add(gzipped(firehose.EncodeRequest("r", 1, [][]byte{[]byte("a")})), true)
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00}, true)
	f.Fuzz(func(t *testing.T, body []byte, gz bool) {
		enc := ""
		if gz {
			enc = "gzip"
		}
		const limit = 1 << 16
		r, err := firehose.OpenBody(bytes.NewReader(body), enc, limit)
		if err != nil {
			var me *firehose.MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("OpenBody error is not MalformedError: %v", err)
			}
			return
		}
		req, err := firehose.DecodeRequest(r, 0)
		if err != nil {
			var me *firehose.MalformedError
			if !errors.As(err, &me) && !errors.Is(err, firehose.ErrTooLarge) {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
			return
		}
		if req.RequestID == "" || len(req.Records) > firehose.MaxRecords {
			t.Fatalf("accepted an invalid request: %+v", req)
		}
		if !gz {
			var oracle firehose.Request
			if err := json.Unmarshal(body, &oracle); err != nil {
				t.Fatalf("accepted, but encoding/json refuses it: %v", err)
			}
			if oracle.RequestID != req.RequestID || oracle.Timestamp != req.Timestamp || !slices.Equal(oracle.Records, req.Records) {
				t.Fatalf("encoding/json reads %+v, the decoder %+v", oracle, req)
			}
		}
		for _, rec := range req.Records {
			if b, err := firehose.DecodeData(rec); err == nil && len(b) > firehose.MaxRecordBytes {
				t.Fatalf("decoded %d bytes, over the record limit", len(b))
			}
		}
	})
}
