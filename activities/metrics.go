package activities

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
)

// Metrics are what the activities report to the worker's /metrics. A nil
// *Metrics reports nothing, so tests need not set it. Activities run at
// least once, so a retried step after a lost answer may count twice: the
// figures are for watching trends, not for accounting.
type Metrics struct {
	finished       *prometheus.CounterVec
	bytesCopied    prometheus.Counter
	enqueueLatency prometheus.Histogram
	erasures       *prometheus.CounterVec
	completeness   *prometheus.GaugeVec
	quietHours     *prometheus.GaugeVec
}

// NewMetrics returns the activities' metrics, unregistered.
func NewMetrics() *Metrics {
	return &Metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "worker_conversations_finished_total",
			Help: "Conversations that reached a final state, by tenant and state.",
		}, []string{"tenant_id", "state"}),
		bytesCopied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_recording_bytes_copied_total",
			Help: "Recording bytes streamed from tenants' S3 into MinIO (reused copies not counted).",
		}),
		enqueueLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "worker_disconnect_to_enqueue_seconds",
			Help:    "Time from a call's DisconnectTimestamp to its analysis job being enqueued.",
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600},
		}),
		erasures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "worker_contacts_erased_total",
			Help: "Contacts erased, by what asked: request (an operator), retention (the tenant's retention) or tenant_removal.",
		}, []string{"kind"}),
		completeness: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "worker_reconcile_contacts",
			Help: "The tenant's last finished reconciliation: contacts Connect reported (reported), connect-ingest already had (present), recovered, could not recover (missing), erased contacts it refused (erased), and the window's conversations enqueued for analysis (analysed).",
		}, []string{"tenant_id", "outcome"}),
		quietHours: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "worker_reconcile_quiet_hours",
			Help: "Hours of the tenant's last reconciled window in which Connect had calls and Firehose delivered none: its stream went quiet.",
		}, []string{"tenant_id"}),
	}
}

// Collectors lists the metrics for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.finished, m.bytesCopied, m.enqueueLatency, m.erasures, m.completeness, m.quietHours}
}

func (m *Metrics) stateSet(tenantID string, state conversation.State) {
	if m != nil && state.Final() {
		m.finished.WithLabelValues(tenantID, string(state)).Inc()
	}
}

func (m *Metrics) copied(bytes int64) {
	if m != nil {
		m.bytesCopied.Add(float64(bytes))
	}
}

func (m *Metrics) enqueued(tenantID string, disconnected *time.Time) {
	if m == nil {
		return
	}
	m.finished.WithLabelValues(tenantID, string(conversation.Enqueued)).Inc()
	if disconnected != nil {
		m.enqueueLatency.Observe(time.Since(*disconnected).Seconds())
	}
}

func (m *Metrics) reconciled(tenantID string, c store.ReconcileCounts, quietHours int) {
	if m == nil {
		return
	}
	m.quietHours.WithLabelValues(tenantID).Set(float64(quietHours))
	for outcome, n := range map[string]int{"reported": c.Seen, "present": c.Present, "recovered": c.Recovered,
		"missing": c.Unrecoverable, "analysed": c.Analysed, "erased": c.Erased} {
		m.completeness.WithLabelValues(tenantID, outcome).Set(float64(n))
	}
}

func (m *Metrics) erased(kind string) {
	if m != nil {
		m.erasures.WithLabelValues(kind).Inc()
	}
}
