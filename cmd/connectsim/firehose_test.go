package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestFirehoseClientSeveralGateways: with several endpoints, deliveries
// take them in turn, and a delivery one of them cannot take is retried, with
// its request ID, on the next.
func TestFirehoseClientSeveralGateways(t *testing.T) {
	up := &receiver{refused: true} // answers 200 from the first delivery
	live := httptest.NewServer(up)
	t.Cleanup(live.Close)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // a gateway that is down: its connection is refused

	c := &firehoseClient{urls: []string{live.URL, deadURL}, accessKey: "key-0123456789abcdefghijkl",
		retryWindow: time.Minute, http: &http.Client{}}
	for range 3 {
		if err := c.post(context.Background(), [][]byte{[]byte(`{"ContactId":"c"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	// The first delivery goes to the live gateway; the second to the dead
	// one, then again to the live one; the third likewise.
	if up.records != 3 || len(up.ids) != 3 {
		t.Fatalf("the live gateway took %d records in %d requests, want 3 in 3", up.records, len(up.ids))
	}
	if c.retries != 2 {
		t.Fatalf("%d retries, want 2: one per delivery sent to the dead gateway", c.retries)
	}
}
