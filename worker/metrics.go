package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/metrics"
)

// workerMetrics are the worker's own Prometheus series.
type workerMetrics struct {
	registry      *prometheus.Registry
	delivered     prometheus.Counter
	deadLettered  prometheus.Counter
	signalRetries prometheus.Counter
	skipped       prometheus.Counter
	erasedRefused prometheus.Counter
	quarantined   prometheus.Counter
	requeued      prometheus.Counter
	// quarantineOverQuota counts refused CTRs kept without their bytes.
	quarantineOverQuota prometheus.Counter
	consumerLag         prometheus.Histogram
	// adminRefused counts the admin API's refused requests by status.
	adminRefused *prometheus.CounterVec
	// stuck counts the calls stuck, by tenant, from Postgres.
	stuck *stuckGauge
	// activities are the activities' own series.
	activities *activities.Metrics
}

func newWorkerMetrics() *workerMetrics {
	m := &workerMetrics{
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_ctr_messages_delivered_total",
			Help: "CTR messages handed to their conversation workflow and acked.",
		}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_ctr_messages_dead_lettered_total",
			Help: "CTR messages that could never be processed, rejected to the dead-letter queue.",
		}),
		signalRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_temporal_signal_retries_total",
			Help: "Signal-with-start attempts that Temporal did not accept and were retried.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_ctr_messages_skipped_total",
			Help: "CTR messages acked without a Temporal call: their conversation already had that version (finished, or its run still at work on it) or a newer one.",
		}),
		erasedRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_ctr_messages_erased_refused_total",
			Help: "CTR messages of erased contacts, refused and acked: an erased contact is never ingested again.",
		}),
		quarantined: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_ctr_messages_quarantined_total",
			Help: "CTR messages that Postgres or Temporal refused for their content, kept in the quarantine with the reason.",
		}),
		requeued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_ctr_messages_requeued_total",
			Help: "CTR messages returned to the queue after WORKER_DELIVERY_RETRY_FOR of failed attempts (dead-lettered after the delivery limit).",
		}),
		quarantineOverQuota: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_ctr_messages_quarantined_over_quota_total",
			Help: "Refused CTR messages kept without their bytes (reason, length and SHA-256 only) because their tenant's quarantine quota was reached.",
		}),
		consumerLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "worker_ctr_consumer_lag_seconds",
			Help:    "Time from the gateway receiving a CTR to its workflow accepting it: how far the consumer is behind.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 12),
		}),
		adminRefused: newRefusedCounter(),
		activities:   activities.NewMetrics(),
		stuck:        newStuckGauge(),
	}
	m.registry = metrics.NewRegistry(m.collectors()...)
	return m
}

// collectors lists the worker's own series and the activities'.
func (m *workerMetrics) collectors() []prometheus.Collector {
	return append(m.activities.Collectors(), m.delivered, m.deadLettered, m.signalRetries, m.skipped, m.erasedRefused,
		m.quarantined, m.requeued, m.quarantineOverQuota, m.consumerLag, m.stuck, m.adminRefused)
}
