package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/connectingest/connect-ingest/internal/metrics"
)

// workerMetrics are the worker's own Prometheus series.
type workerMetrics struct {
	registry      *prometheus.Registry
	delivered     prometheus.Counter
	deadLettered  prometheus.Counter
	signalRetries prometheus.Counter
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
	}
	m.registry = metrics.NewRegistry(m.delivered, m.deadLettered, m.signalRetries)
	return m
}
