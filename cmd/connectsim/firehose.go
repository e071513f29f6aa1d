package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/connectingest/connect-ingest/internal/firehose"
)

// firehoseClient posts batches as an Amazon Data Firehose HTTP endpoint
// destination does: one request ID per batch, kept across retries; retries
// on anything but 200 until the retry window ends. With several endpoints,
// each attempt goes to the next in turn, as a load balancer in front of
// several gateways sends them, so a retry reaches another gateway.
type firehoseClient struct {
	urls        []string
	accessKey   string
	sourceARN   string
	gzip        bool
	retryWindow time.Duration
	http        *http.Client

	retries int
	next    int
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// post delivers records and returns once the gateway answered 200.
func (c *firehoseClient) post(ctx context.Context, records [][]byte) error {
	id := newRequestID()
	body := firehose.EncodeRequest(id, time.Now().UnixMilli(), records)
	if c.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(body); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		body = buf.Bytes()
	}
	deadline := time.Now().Add(c.retryWindow)
	backoff := 500 * time.Millisecond
	for {
		status, msg, err := c.once(ctx, id, body)
		if err == nil && status == http.StatusOK {
			return nil
		}
		if err == nil && status >= 400 && status < 500 {
			return fmt.Errorf("gateway refused batch %s: %d %s", id, status, msg)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("batch %s not accepted within %v: status %d %s %v", id, c.retryWindow, status, msg, err)
		}
		c.retries++
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (c *firehoseClient) once(ctx context.Context, id string, body []byte) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	url := c.urls[c.next%len(c.urls)]
	c.next++
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(firehose.HeaderRequestID, id)
	req.Header.Set(firehose.HeaderAccessKey, c.accessKey)
	req.Header.Set(firehose.HeaderSourceARN, c.sourceARN)
	req.Header.Set(firehose.HeaderProtocolVersion, "1.0")
	if c.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode, string(msg), nil
}
