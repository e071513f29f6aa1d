package main

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// scrape reads the worker's /metrics and returns the sum of every sample of
// the named series whose labels contain all of want (as name="value").
func scrape(t *testing.T, health, name string, want ...string) (float64, bool) {
	t.Helper()
	resp, err := http.Get("http://" + health + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		match := true
		for _, w := range want {
			match = match && strings.Contains(series, w)
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		sum, found = sum+v, true
	}
	return sum, found
}

func TestWorkerMetrics(t *testing.T) {
	// No eager starts: every workflow task comes through the task queue, so
	// the SDK exports its schedule-to-start series, which the dashboards
	// read and which an eagerly started task never reaches.
	p := startPipelineWith(t, map[string]string{"WORKER_EAGER_STARTS": "0"})
	ctx := t.Context()
	t0 := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)
	bucket := p.tenant.RecordingBuckets[0]
	wav := testenv.WAV(2)
	if _, err := p.s3.PutObject(ctx, bucket, "m/c-ok.wav", bytes.NewReader(wav), int64(len(wav)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	p.send(p.ctr("c-ok", t0, bucket+"/m/c-ok.wav"), p.ctr("c-foreign", t0, "someone-elses-bucket/m/c.wav"))
	p.waitState("c-ok", conversation.Enqueued, time.Minute)
	p.waitState("c-foreign", conversation.Rejected, time.Minute)

	t.Run("conversations are counted by final state", func(t *testing.T) {
		for state, want := range map[string]float64{"enqueued": 1, "rejected": 1} {
			if got, _ := scrape(t, p.health, "worker_conversations_finished_total", `state="`+state+`"`); got != want {
				t.Errorf("%s: %v, want %v", state, got, want)
			}
		}
	})

	t.Run("the bytes copied are the recording's", func(t *testing.T) {
		if got, _ := scrape(t, p.health, "worker_recording_bytes_copied_total"); got != float64(len(wav)) {
			t.Fatalf("%v bytes, want %d", got, len(wav))
		}
	})

	t.Run("the time from disconnect to enqueue and the consumer's lag are observed", func(t *testing.T) {
		if n, _ := scrape(t, p.health, "worker_disconnect_to_enqueue_seconds_count"); n != 1 {
			t.Errorf("disconnect-to-enqueue observations: %v, want 1", n)
		}
		if n, _ := scrape(t, p.health, "worker_ctr_consumer_lag_seconds_count"); n != 2 {
			t.Errorf("consumer lag observations: %v, want 2", n)
		}
	})

	t.Run("the Temporal SDK's own metrics are there, with local-activity failures by type", func(t *testing.T) {
		if n, ok := scrape(t, p.health, "temporal_local_activity_execution_latency_seconds_count", `activity_type="CopyShortRecording"`); !ok || n < 2 {
			t.Errorf("CopyShortRecording executions: %v (%v)", n, ok)
		}
		// The SDK's counters reach the registry each second.
		var n float64
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if n, _ = scrape(t, p.health, "temporal_local_activity_execution_failed_total", `activity_type="CopyShortRecording"`); n >= 1 {
				break
			}
		}
		if n < 1 {
			t.Errorf("CopyShortRecording failures: %v, want the refused location counted", n)
		}
	})

	t.Run("the Temporal SDK series the dashboards and alerts read are those the SDK exports", func(t *testing.T) {
		for _, name := range testenv.MetricsReferenced(t, "temporal_") {
			if name == "temporal_workflow_failed_total" || name == "temporal_activity_execution_failed_total" {
				continue // exported from the first failure of their kind on; none happens here
			}
			if _, ok := scrape(t, p.health, name); !ok {
				t.Errorf("the dashboards or alerts read %s; the worker's /metrics has no such series", name)
			}
		}
	})
}
