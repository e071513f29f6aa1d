package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/connectingest/connect-ingest/internal/metrics"

	"github.com/connectingest/connect-ingest/internal/ctr"
)

// gatewayMetrics are the gateway's Prometheus series, on a registry of their own so
// that tests can run several gateways in one process.
type gatewayMetrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	published   prometheus.Counter
	quarantined *prometheus.CounterVec
	// overQuota counts, by tenant, records quarantined without their bytes.
	overQuota *prometheus.CounterVec
	// agentEvents counts the agent events on tenants' streams, by tenant
	// and event type: neither published nor quarantined.
	agentEvents *prometheus.CounterVec
	// busy counts batches refused with 503 by the in-flight bounds, by
	// which bound.
	busy       *prometheus.CounterVec
	ingestTime prometheus.Histogram
	batchSize  prometheus.Histogram
}

func newMetrics() *gatewayMetrics {
	m := &gatewayMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_firehose_requests_total",
			Help: "Firehose deliveries answered, by HTTP status.",
		}, []string{"status"}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_records_published_total",
			Help: "CTRs confirmed by RabbitMQ.",
		}),
		quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_records_quarantined_total",
			Help: "Records quarantined, by reason.",
		}, []string{"reason"}),
		agentEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_agent_events_total",
			Help: "Amazon Connect agent events on tenants' streams (LOGIN, LOGOUT, STATE_CHANGE, HEART_BEAT), by tenant and type; each agent's latest is kept on its agent row.",
		}, []string{"tenant_id", "event_type"}),
		overQuota: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_records_quarantined_over_quota_total",
			Help: "Records quarantined without their bytes (reason, length and SHA-256 only) because the tenant's quarantine quota was reached, by tenant.",
		}, []string{"tenant_id"}),
		busy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_batches_refused_busy_total",
			Help: "Deliveries answered 503 because the tenant (bound \"tenant\") or the gateway (\"gateway\") had its most batches in flight.",
		}, []string{"bound"}),
		ingestTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_confirm_duration_seconds",
			Help:    "Time from the first publish of a batch to its last publisher confirm (quarantine included).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_batch_records",
			Help:    "Records per Firehose delivery.",
			Buckets: []float64{0, 1, 10, 50, 100, 500, 1000, 2500, 5000, 10000},
		}),
	}
	m.registry = metrics.NewRegistry(m.collectors()...)
	for _, r := range ctr.Reasons {
		m.quarantined.WithLabelValues(string(r))
	}
	m.busy.WithLabelValues(busyTenant)
	m.busy.WithLabelValues(busyGateway)
	return m
}

// collectors lists the gateway's own series.
func (m *gatewayMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.published, m.quarantined, m.agentEvents, m.overQuota, m.busy, m.ingestTime, m.batchSize}
}
