package testenv

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// StartProgram runs a program's run function in the background and returns a
// stop function that cancels its context, as SIGTERM does, and returns what
// run returned.
func StartProgram(tb testing.TB, run func(ctx context.Context) error) (stop func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	stopped := false
	var result error
	stop = func() error {
		if stopped {
			return result
		}
		stopped = true
		cancel()
		select {
		case result = <-done:
		case <-time.After(40 * time.Second):
			tb.Fatal("program did not stop within 40s of its context ending")
		}
		return result
	}
	tb.Cleanup(func() { _ = stop() })
	return stop
}

// WaitHTTP polls url until it answers want, and fails the test after 30
// seconds, reporting the last answer.
func WaitHTTP(tb testing.TB, url string, want int) string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return string(body)
			}
			last = resp.Status + " " + string(body)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("%s did not answer %d within 30s; last: %s", url, want, last)
	return ""
}
