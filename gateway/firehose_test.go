package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestFirehoseDelivery(t *testing.T) {
	f := newFixture(t)

	t.Run("a plain delivery is answered 200 after every CTR is a persistent message", func(t *testing.T) {
		records := ctrs(1, 3)
		a := f.post(newDelivery("req-plain", records...))
		checkAnswer(t, a, http.StatusOK, "req-plain")

		got := testenv.Drain(t, f.cfg.CTRQueue, 3)
		if len(got) != 3 {
			t.Fatalf("got %d messages, want 3", len(got))
		}
		for i, d := range got {
			var env ctr.Envelope
			if err := json.Unmarshal(d.Body, &env); err != nil {
				t.Fatalf("message %d body: %v", i, err)
			}
			if env.TenantID != "acme" || env.ContactID != ctrtest.ContactID(1, i) || env.FirehoseRequestID != "req-plain" {
				t.Errorf("message %d envelope = %+v", i, env)
			}
			if !bytes.Equal(env.CTR, records[i]) {
				t.Errorf("message %d carries a different CTR than was sent", i)
			}
			if d.MessageId != env.MessageID() || !strings.HasPrefix(d.MessageId, "acme/"+env.ContactID+"/") {
				t.Errorf("message %d id = %q, want %q", i, d.MessageId, env.MessageID())
			}
			if d.DeliveryMode != amqp.Persistent || d.Type != ctr.EnvelopeType || d.ContentType != "application/json" {
				t.Errorf("message %d properties: mode %d type %q content %q", i, d.DeliveryMode, d.Type, d.ContentType)
			}
			if d.Headers["tenant_id"] != "acme" || d.Headers["contact_id"] != env.ContactID {
				t.Errorf("message %d headers = %v", i, d.Headers)
			}
		}
	})

	t.Run("a gzip delivery is decompressed and answered uncompressed", func(t *testing.T) {
		d := newDelivery("req-gzip", ctrs(2, 2)...)
		d.gzip = true
		checkAnswer(t, f.post(d), http.StatusOK, "req-gzip")
		if got := testenv.Drain(t, f.cfg.CTRQueue, 2); len(got) != 2 {
			t.Fatalf("got %d messages, want 2", len(got))
		}
	})

	t.Run("an empty records list is valid and publishes nothing", func(t *testing.T) {
		checkAnswer(t, f.post(newDelivery("req-empty")), http.StatusOK, "req-empty")
		if n := testenv.QueueDepth(t, f.cfg.CTRQueue); n != 0 {
			t.Fatalf("queue holds %d messages, want 0", n)
		}
	})

	t.Run("10,000 records in one delivery all arrive", func(t *testing.T) {
		d := newDelivery("req-10k", ctrs(3, firehose.MaxRecords)...)
		d.gzip = true
		checkAnswer(t, f.post(d), http.StatusOK, "req-10k")
		if n := testenv.QueueDepth(t, f.cfg.CTRQueue); n != firehose.MaxRecords {
			t.Fatalf("queue holds %d messages, want %d", n, firehose.MaxRecords)
		}
		testenv.Drain(t, f.cfg.CTRQueue, firehose.MaxRecords)
	})

	t.Run("the request ID may come from the body alone", func(t *testing.T) {
		d := newDelivery("req-body-only", ctrs(4, 1)...)
		d.requestID = ""
		checkAnswer(t, f.post(d), http.StatusOK, "req-body-only")
		testenv.Drain(t, f.cfg.CTRQueue, 1)
	})
}

func TestFirehoseRefusals(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.Gateway.MaxBodyBytes = 256 << 10
		c.Gateway.MaxDecodedBytes = 1 << 20
	})

	cases := []struct {
		name    string
		mutate  func(*delivery)
		status  int
		message string
	}{
		{"a missing access key is 401", func(d *delivery) { d.key = "" }, http.StatusUnauthorized, "access key"},
		{"a wrong access key is 401", func(d *delivery) { d.key = "not-the-key-0123456789abcdef" }, http.StatusUnauthorized, "access key"},
		{"a body that is not JSON is 400", func(d *delivery) { d.body = []byte("hello") }, http.StatusBadRequest, "not a Firehose request"},
		{"a body without requestId is 400", func(d *delivery) { d.body = []byte(`{"timestamp":1,"records":[]}`) }, http.StatusBadRequest, "no requestId"},
		{"a header requestId differing from the body's is 400", func(d *delivery) {
			d.headers = map[string]string{firehose.HeaderRequestID: "other-id"}
		}, http.StatusBadRequest, "differs"},
		{"more than 10,000 records is 400", func(d *delivery) {
			recs := make([][]byte, firehose.MaxRecords+1)
			for i := range recs {
				recs[i] = []byte("{}")
			}
			d.body = firehose.EncodeRequest(d.requestID, 1, recs)
			d.gzip = true
		}, http.StatusBadRequest, "10000"},
		{"a body over the size limit is 400, never 413", func(d *delivery) {
			d.body = firehose.EncodeRequest(d.requestID, 1, [][]byte{bytes.Repeat([]byte("x"), 300<<10)})
		}, http.StatusBadRequest, "exceeds"},
		{"a body that says gzip but is not is 400", func(d *delivery) {
			d.headers = map[string]string{"Content-Encoding": "gzip"}
		}, http.StatusBadRequest, "gzip"},
		{"an unknown content encoding is 400", func(d *delivery) {
			d.headers = map[string]string{"Content-Encoding": "br"}
		}, http.StatusBadRequest, "Content-Encoding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDelivery("req-refused", ctrs(9, 1)...)
			tc.mutate(&d)
			a := f.post(d)
			wantID := d.requestID
			if v, ok := d.headers[firehose.HeaderRequestID]; ok {
				wantID = v
			}
			checkAnswer(t, a, tc.status, wantID)
			if !strings.Contains(a.body.ErrorMessage, tc.message) {
				t.Errorf("errorMessage = %q, want it to mention %q", a.body.ErrorMessage, tc.message)
			}
		})
	}
	t.Run("a request ID that is overlong or holds odd characters is 400, neither echoed nor quoted", func(t *testing.T) {
		for _, id := range []string{strings.Repeat("r", firehose.MaxRequestIDBytes+1), "req/../1", "req 1", "req\"1"} {
			inHeader := newDelivery("req-ok", ctrs(9, 1)...)
			inHeader.headers = map[string]string{firehose.HeaderRequestID: id}
			inBody := newDelivery(id, ctrs(9, 1)...)
			inBody.headers = map[string]string{firehose.HeaderRequestID: ""}
			for _, d := range []delivery{inHeader, inBody} {
				a := f.post(d)
				checkAnswer(t, a, http.StatusBadRequest, "")
				if !strings.Contains(a.body.ErrorMessage, "request ID") || strings.Contains(string(a.raw), id) {
					t.Errorf("%.20q: errorMessage = %q", id, a.body.ErrorMessage)
				}
			}
		}
	})
	if n := testenv.QueueDepth(t, f.cfg.CTRQueue); n != 0 {
		t.Fatalf("refused deliveries left %d messages on the queue", n)
	}

	t.Run("a gzip bomb is 400 and costs far less memory than it expands to", func(t *testing.T) {
		// 64 MiB of one base64 letter, compressed to about 64 KiB.
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		fmt.Fprint(zw, `{"requestId":"req-bomb","timestamp":1,"records":[{"data":"`)
		chunk := bytes.Repeat([]byte("A"), 1<<20)
		for range 64 {
			zw.Write(chunk)
		}
		fmt.Fprint(zw, `"}]}`)
		zw.Close()
		d := delivery{requestID: "req-bomb", key: testKey, body: buf.Bytes(), headers: map[string]string{"Content-Encoding": "gzip"}}

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rec := httptest.NewRecorder()
		f.gw.public.ServeHTTP(rec, d.request(t, ""))
		runtime.ReadMemStats(&after)

		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "decompressed request body exceeds") {
			t.Fatalf("got %d %s, want 400 naming the decompressed limit", rec.Code, rec.Body)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Fatalf("handling the bomb allocated %d MiB, want under 16 MiB (it expands to 64 MiB)", alloc>>20)
		}
	})

	t.Run("the access key is checked before the body is read", func(t *testing.T) {
		body := &trackingReader{r: bytes.NewReader(newDelivery("req-x", ctrs(9, 1)...).body)}
		req := httptest.NewRequest(http.MethodPost, "/firehose", body)
		req.Header.Set(firehose.HeaderRequestID, "req-x")
		req.Header.Set(firehose.HeaderAccessKey, "wrong-key-wrong-key-wrong-key")
		rec := httptest.NewRecorder()
		f.gw.public.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401", rec.Code)
		}
		if body.read > 0 {
			t.Fatalf("the handler read %d body bytes before refusing the key", body.read)
		}
	})

	t.Run("a trailing slash is 404, never a redirect", func(t *testing.T) {
		rec := httptest.NewRecorder()
		f.gw.public.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/firehose/", nil))
		if rec.Code != http.StatusNotFound {
			t.Fatalf("status = %d, want 404", rec.Code)
		}
	})
}

type trackingReader struct {
	r    *bytes.Reader
	read int
}

func (t *trackingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.read += n
	return n, err
}

func TestFirehoseQuarantine(t *testing.T) {
	f := newFixture(t)
	good := ctrs(5, 1)[0]
	otherInstance := ctrtest.Sample(ctrtest.Options{
		ContactID: ctrtest.ContactID(5, 9), LastUpdate: time.Now(),
		InstanceARN: "arn:aws:connect:eu-west-2:999999999999:instance/someone-else",
	})
	body := firehose.EncodeRequest("req-mixed", 1, [][]byte{
		good,
		[]byte("not json at all"),
		[]byte(`{"InstanceARN":"` + testInstanceARN + `","LastUpdateTimestamp":"2026-11-24T09:00:00Z"}`),
		otherInstance,
		{0xff, 0xfe, '{', '}'},
		[]byte(`{"ContactId":"../../etc","InstanceARN":"` + testInstanceARN + `","LastUpdateTimestamp":"2026-11-24T09:00:00Z"}`),
	})
	// Record 6: base64 that does not decode, spliced into the JSON by hand.
	body = bytes.Replace(body, []byte(`]}`), []byte(`,{"data":"%%%not-base64%%%"}]}`), 1)
	d := delivery{requestID: "req-mixed", key: testKey, body: body}

	t.Run("bad records are quarantined with their reason and the batch still gets 200", func(t *testing.T) {
		checkAnswer(t, f.post(d), http.StatusOK, "req-mixed")
		if got := testenv.Drain(t, f.cfg.CTRQueue, 2); len(got) != 1 {
			t.Fatalf("got %d messages, want only the good record", len(got))
		}
		recs, err := store.NewQuarantine(f.pool).List(t.Context(), store.RejectedFilter{TenantID: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]ctr.Reason{
			1: ctr.ReasonNotJSON, 2: ctr.ReasonMissingContactID, 3: ctr.ReasonInstanceMismatch,
			4: ctr.ReasonInvalidUTF8, 5: ctr.ReasonInvalidContactID, 6: ctr.ReasonBadBase64,
		}
		if len(recs) != len(want) {
			t.Fatalf("quarantined %d records, want %d: %+v", len(recs), len(want), recs)
		}
		for _, r := range recs {
			if want[r.RecordIndex] != ctr.Reason(r.Reason) || r.FirehoseRequestID != "req-mixed" {
				t.Errorf("record %d quarantined as %q (request %s), want %q", r.RecordIndex, r.Reason, r.FirehoseRequestID, want[r.RecordIndex])
			}
			if len(r.RawData) == 0 {
				t.Errorf("record %d kept no raw data", r.RecordIndex)
			}
		}
	})

	t.Run("the raw bytes are kept exactly as received", func(t *testing.T) {
		recs, err := store.NewQuarantine(f.pool).List(t.Context(), store.RejectedFilter{Reason: string(ctr.ReasonInstanceMismatch)})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || !bytes.Equal(recs[0].RawData, otherInstance) {
			t.Fatalf("instance-mismatch record not kept byte for byte")
		}
	})

	t.Run("Firehose retrying the same batch quarantines nothing twice", func(t *testing.T) {
		checkAnswer(t, f.post(d), http.StatusOK, "req-mixed")
		testenv.Drain(t, f.cfg.CTRQueue, 2)
		recs, err := store.NewQuarantine(f.pool).List(t.Context(), store.RejectedFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 6 {
			t.Fatalf("quarantine holds %d records after a retry, want 6", len(recs))
		}
	})

	t.Run("the metrics count what was published and quarantined by reason", func(t *testing.T) {
		rec := httptest.NewRecorder()
		f.gw.admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for _, want := range []string{
			`gateway_records_published_total 2`,
			`gateway_records_quarantined_total{reason="instance_mismatch"} 2`,
			`gateway_firehose_requests_total{status="200"} 2`,
		} {
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})

	t.Run("an oversized record is quarantined as too_large", func(t *testing.T) {
		huge := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), firehose.MaxRecordBytes+1))
		body := []byte(`{"requestId":"req-huge","timestamp":1,"records":[{"data":"` + huge + `"}]}`)
		checkAnswer(t, f.post(delivery{requestID: "req-huge", key: testKey, body: body}), http.StatusOK, "req-huge")
		recs, err := store.NewQuarantine(f.pool).List(t.Context(), store.RejectedFilter{Reason: string(ctr.ReasonTooLarge)})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 {
			t.Fatalf("got %d too_large records, want 1", len(recs))
		}
		// Bounded: the first 64 KiB of the base64 text, with the length
		// and hash of the whole.
		if r := recs[0]; len(r.RawData) != store.RejectedPrefixBytes || r.RawLength != int64(len(huge)) || len(r.RawSHA256) != 64 {
			t.Fatalf("kept %d bytes of %d (sha256 %q)", len(r.RawData), r.RawLength, r.RawSHA256)
		}
	})
}

func TestFirehoseBrokerOutage(t *testing.T) {
	f := newFixture(t)

	t.Run("with the broker unreachable the gateway answers 503 and is not ready", func(t *testing.T) {
		f.proxy.Cut()
		a := f.post(newDelivery("req-outage", ctrs(6, 2)...))
		checkAnswer(t, a, http.StatusServiceUnavailable, "req-outage")
		rec := httptest.NewRecorder()
		f.gw.admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "rabbitmq") {
			t.Fatalf("readyz = %d %s, want 503 naming rabbitmq", rec.Code, rec.Body)
		}
	})

	t.Run("the public port says only that it is not ready, never why", func(t *testing.T) {
		rec := httptest.NewRecorder()
		f.gw.public.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusServiceUnavailable || strings.TrimSpace(rec.Body.String()) != `{"status":"not ready"}` {
			t.Fatalf("public readyz = %d %s, want 503 and the status alone", rec.Code, rec.Body)
		}
	})

	t.Run("once the broker is back the same gateway recovers and accepts the retry", func(t *testing.T) {
		f.proxy.Restore()
		deadline := time.Now().Add(20 * time.Second)
		var a answer
		for time.Now().Before(deadline) {
			a = f.post(newDelivery("req-outage", ctrs(6, 2)...))
			if a.status == http.StatusOK {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		checkAnswer(t, a, http.StatusOK, "req-outage")
		if got := testenv.Drain(t, f.cfg.CTRQueue, 2); len(got) != 2 {
			t.Fatalf("got %d messages after recovery, want 2", len(got))
		}
	})
}
