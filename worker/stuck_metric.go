package main

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// stuckGauge exports, by tenant, how many conversations have sat in a state
// that is not final for longer than CALLS_STUCK_AFTER: the calls an operator
// must look at (`ingestctl calls list --stuck`). It asks Postgres when
// scraped, at most every cacheFor, and exports nothing while it cannot.
type stuckGauge struct {
	desc *prometheus.Desc
	// count reads the figures; nil until the worker has its database.
	count func(ctx context.Context) (map[string]int, error)

	mu     sync.Mutex
	last   map[string]int
	readAt time.Time
}

// cacheFor bounds how often scrapes query Postgres.
const cacheFor = 30 * time.Second

func newStuckGauge() *stuckGauge {
	return &stuckGauge{desc: prometheus.NewDesc("worker_conversations_stuck",
		"Conversations in a state that is not final for longer than CALLS_STUCK_AFTER, by tenant.", []string{"tenant_id"}, nil)}
}

func (g *stuckGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *stuckGauge) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.count == nil {
		return
	}
	if time.Since(g.readAt) >= cacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		counts, err := g.count(ctx)
		cancel()
		if err != nil {
			return
		}
		g.last, g.readAt = counts, time.Now()
	}
	for tenant, n := range g.last {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n), tenant)
	}
}
