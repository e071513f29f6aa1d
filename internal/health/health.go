// Package health serves liveness (/healthz) and readiness (/readyz). A
// process is live while it serves HTTP at all; it is ready only while every
// dependency it needs answers.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Check is one dependency probe.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Live answers 200 as long as the process serves requests.
func Live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// Ready returns a handler that runs every check (each bounded by two
// seconds) and answers 200 when all pass, 503 naming the failures otherwise.
// The failures' text names internal hosts, users and databases: serve it on
// internal listeners only.
func Ready(checks ...Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		results, status := probe(r.Context(), checks)
		writeJSON(w, status, map[string]any{"status": statusText(status), "checks": results})
	}
}

// ReadySummary runs the same checks as Ready and answers with the status
// alone, ready or not ready: for a listener the internet reaches, such as
// the Firehose port.
func ReadySummary(checks ...Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, status := probe(r.Context(), checks)
		writeJSON(w, status, map[string]any{"status": statusText(status)})
	}
}

func probe(ctx context.Context, checks []Check) (map[string]string, int) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	results := map[string]string{}
	status := http.StatusOK
	for _, c := range checks {
		if err := c.Probe(ctx); err != nil {
			results[c.Name] = err.Error()
			status = http.StatusServiceUnavailable
			continue
		}
		results[c.Name] = "ok"
	}
	return results, status
}

func statusText(status int) string {
	if status != http.StatusOK {
		return "not ready"
	}
	return "ready"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
