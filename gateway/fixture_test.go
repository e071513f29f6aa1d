package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

const (
	testKey         = "test-access-key-0123456789abcdef"
	testInstanceARN = "arn:aws:connect:eu-west-2:111122223333:instance/11111111-2222-3333-4444-555555555555"
)

// fixture is a gateway wired to a fresh database, a fresh queue on the real
// RabbitMQ (optionally behind a proxy), and one tenant "acme".
type fixture struct {
	t     testing.TB
	cfg   config.Config
	pool  *pgxpool.Pool
	gw    *gateway
	srv   *httptest.Server
	proxy *testenv.Proxy
}

// newFixture routes the gateway's AMQP connection through a proxy that tests
// can cut; newDirectFixture connects it straight to the broker, as
// benchmarks need.
func newFixture(t testing.TB, tune ...func(*config.Config)) *fixture {
	t.Helper()
	return buildFixture(t, true, tune...)
}

func newDirectFixture(t testing.TB, tune ...func(*config.Config)) *fixture {
	t.Helper()
	return buildFixture(t, false, tune...)
}

func buildFixture(t testing.TB, proxied bool, tune ...func(*config.Config)) *fixture {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.CTRQueue = testenv.Queues(t)
	// The race detector slows publishing several-fold; a 10,000-record batch
	// must still fit. Firehose itself waits up to 3 minutes.
	cfg.Gateway.ConfirmTimeout = 2 * time.Minute
	for _, f := range tune {
		f(&cfg)
	}
	var proxy *testenv.Proxy
	if proxied {
		proxy = testenv.NewProxy(t, "127.0.0.1:5672")
		cfg.AMQPURL = testenv.AMQPURLVia(t, proxy.Addr())
	}

	pool, _ := testenv.Database(t)
	tenant := tenant.Tenant{ID: "acme", Name: "Acme", InstanceARN: testInstanceARN, RecordingBuckets: []string{"acme-recordings"}}
	if _, err := store.NewTenants(pool).Create(t.Context(), tenant, testKey); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	conn := queue.Dial(cfg.AMQPURL, queue.Topology{CTRQueue: cfg.CTRQueue}, log)
	t.Cleanup(func() { conn.Close() })
	if err := conn.WaitReady(testenv.WithTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	gw := newGateway(cfg, log, pool, conn)
	t.Cleanup(gw.Close)
	srv := httptest.NewServer(gw.public)
	t.Cleanup(srv.Close)
	return &fixture{t: t, cfg: cfg, pool: pool, gw: gw, srv: srv, proxy: proxy}
}

// delivery is one Firehose request as the spec describes it.
type delivery struct {
	requestID string
	key       string
	body      []byte
	gzip      bool
	headers   map[string]string
}

func newDelivery(requestID string, records ...[]byte) delivery {
	return delivery{
		requestID: requestID,
		key:       testKey,
		body:      firehose.EncodeRequest(requestID, time.Now().UnixMilli(), records),
	}
}

func (d delivery) request(t testing.TB, url string) *http.Request {
	t.Helper()
	body := d.body
	if d.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(body); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		body = buf.Bytes()
	}
	req, err := http.NewRequest(http.MethodPost, url+"/firehose", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(firehose.HeaderProtocolVersion, "1.0")
	req.Header.Set(firehose.HeaderSourceARN, "arn:aws:firehose:eu-west-2:111122223333:deliverystream/acme-ctr")
	if d.requestID != "" {
		req.Header.Set(firehose.HeaderRequestID, d.requestID)
	}
	if d.key != "" {
		req.Header.Set(firehose.HeaderAccessKey, d.key)
	}
	if d.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range d.headers {
		req.Header.Set(k, v)
	}
	return req
}

// answer is a gateway response, decoded.
type answer struct {
	status int
	body   firehose.Response
	raw    []byte
	header http.Header
}

func (f *fixture) post(d delivery) answer {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(d.request(f.t, f.srv.URL))
	if err != nil {
		f.t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, raw: raw, header: resp.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		f.t.Fatalf("response is not JSON: %v: %s", err, raw)
	}
	return a
}

// ctrs returns n realistic records of this fixture's tenant.
func ctrs(seed, n int) [][]byte {
	out := make([][]byte, n)
	base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = ctrtest.Sample(ctrtest.Options{
			ContactID:   ctrtest.ContactID(seed, i),
			InstanceARN: testInstanceARN,
			LastUpdate:  base.Add(time.Duration(i) * time.Second),
		})
	}
	return out
}

// checkAnswer asserts the response format Firehose requires, whatever the
// status: JSON, uncompressed, the request's ID and a millisecond timestamp.
func checkAnswer(t *testing.T, a answer, status int, requestID string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d; body %s", a.status, status, a.raw)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json; charset=utf-8" && ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if ce := a.header.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding = %q, want none", ce)
	}
	if a.body.RequestID != requestID {
		t.Errorf("requestId = %q, want %q", a.body.RequestID, requestID)
	}
	if ms := a.body.Timestamp; ms < time.Now().Add(-time.Minute).UnixMilli() || ms > time.Now().Add(time.Minute).UnixMilli() {
		t.Errorf("timestamp = %d, want now in milliseconds", ms)
	}
	if status == http.StatusOK && a.body.ErrorMessage != "" {
		t.Errorf("errorMessage = %q on 200", a.body.ErrorMessage)
	}
	if status != http.StatusOK && a.body.ErrorMessage == "" {
		t.Errorf("no errorMessage on %d", status)
	}
}
