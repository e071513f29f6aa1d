package main

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// TestTenantBatchesInFlight sends one tenant's deliveries whose bodies are
// still arriving, so that they hold their slots, and checks that the
// tenant's next delivery is refused while another tenant's goes through.
func TestTenantBatchesInFlight(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.Gateway.TenantBatchesInFlight = 2
		c.Gateway.BatchesInFlight = 8
	})
	other := tenant.Tenant{ID: "globex", Name: "Globex", InstanceARN: testInstanceARN, RecordingBuckets: []string{"globex-recordings"}}
	const otherKey = "globex-access-key-0123456789abcdef"
	if _, err := store.NewTenants(f.pool).Create(t.Context(), other, otherKey); err != nil {
		t.Fatal(err)
	}

	// Two of acme's deliveries whose bodies are held back.
	var held []*io.PipeWriter
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range 2 {
		pr, pw := io.Pipe()
		held = append(held, pw)
		d := newDelivery("req-held-"+string(rune('a'+i)), ctrs(40+i, 1)...)
		req := d.request(t, f.srv.URL)
		body := d.body
		req.Body, req.ContentLength = pr, int64(len(body))
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
		if _, err := pw.Write(body[:10]); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.gw.inFlight.count("acme") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the held deliveries never took their slots")
		}
		time.Sleep(10 * time.Millisecond)
	}

	t.Run("past its bound the tenant is answered 503, which Firehose retries", func(t *testing.T) {
		a := f.post(newDelivery("req-third", ctrs(50, 1)...))
		checkAnswer(t, a, http.StatusServiceUnavailable, "req-third")
		if !strings.Contains(a.body.ErrorMessage, "in flight") {
			t.Errorf("errorMessage = %q", a.body.ErrorMessage)
		}
	})

	t.Run("another tenant is untouched", func(t *testing.T) {
		d := newDelivery("req-globex", ctrs(60, 1)...)
		d.key = otherKey
		checkAnswer(t, f.post(d), http.StatusOK, "req-globex")
	})

	t.Run("the held deliveries finish with 200 and free their slots", func(t *testing.T) {
		for i, pw := range held {
			d := newDelivery("req-held-"+string(rune('a'+i)), ctrs(40+i, 1)...)
			if _, err := pw.Write(d.body[10:]); err != nil {
				t.Fatal(err)
			}
			pw.Close()
		}
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("held delivery %d: %d", i, s)
			}
		}
		checkAnswer(t, f.post(newDelivery("req-after", ctrs(70, 1)...)), http.StatusOK, "req-after")
		if n := testutil.ToFloat64(f.gw.metrics.busy.WithLabelValues(busyTenant)); n != 1 {
			t.Errorf("busy metric = %v, want 1", n)
		}
	})
}
