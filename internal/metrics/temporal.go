package metrics

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// TemporalHandler exposes the Temporal SDK's own metrics (workflow and
// activity task latencies, activity failures by type, poller counts) in a
// Prometheus registry. A metric keeps the label names of its first use;
// later uses fill missing labels with "" and drop labels it lacks, as
// Prometheus needs one label set per name.
type TemporalHandler struct {
	state *temporalState
	tags  map[string]string
}

type temporalState struct {
	reg        prometheus.Registerer
	mu         sync.Mutex
	counters   map[string]*prometheus.CounterVec
	gauges     map[string]*prometheus.GaugeVec
	histograms map[string]*prometheus.HistogramVec
	labels     map[string][]string
}

var _ client.MetricsHandler = (*TemporalHandler)(nil)

// NewTemporalHandler returns a handler registering its metrics in reg.
func NewTemporalHandler(reg prometheus.Registerer) *TemporalHandler {
	return &TemporalHandler{state: &temporalState{
		reg: reg, counters: map[string]*prometheus.CounterVec{}, gauges: map[string]*prometheus.GaugeVec{},
		histograms: map[string]*prometheus.HistogramVec{}, labels: map[string][]string{},
	}}
}

// WithTags returns a handler whose metrics carry tags as well.
func (h *TemporalHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &TemporalHandler{state: h.state, tags: merged}
}

// labelsFor fixes a metric's label names on first use and returns this
// handler's values for them.
func (s *temporalState) labelsFor(name string, tags map[string]string) ([]string, []string) {
	names, ok := s.labels[name]
	if !ok {
		names = slices.Sorted(maps.Keys(tags))
		s.labels[name] = names
	}
	values := make([]string, len(names))
	for i, n := range names {
		values[i] = tags[n]
	}
	return names, values
}

// lookup returns the named vector, built and registered on first use, and
// this handler's label values for it.
func lookup[V prometheus.Collector](s *temporalState, vecs map[string]V, name string, tags map[string]string, build func([]string) V) (V, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, values := s.labelsFor(name, tags)
	vec, ok := vecs[name]
	if !ok {
		vec = build(names)
		s.reg.MustRegister(vec)
		vecs[name] = vec
	}
	return vec, values
}

// Counter returns the named counter with this handler's tags.
func (h *TemporalHandler) Counter(name string) client.MetricsCounter {
	vec, values := lookup(h.state, h.state.counters, name, h.tags, func(labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "Temporal SDK metric " + name + "."}, labels)
	})
	return counter{vec.WithLabelValues(values...)}
}

// Gauge returns the named gauge with this handler's tags.
func (h *TemporalHandler) Gauge(name string) client.MetricsGauge {
	vec, values := lookup(h.state, h.state.gauges, name, h.tags, func(labels []string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "Temporal SDK metric " + name + "."}, labels)
	})
	return gauge{vec.WithLabelValues(values...)}
}

// Timer returns the named timer, as a histogram in seconds, with this
// handler's tags.
func (h *TemporalHandler) Timer(name string) client.MetricsTimer {
	vec, values := lookup(h.state, h.state.histograms, name, h.tags, func(labels []string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: name + "_seconds", Help: "Temporal SDK metric " + name + ", in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, labels)
	})
	return timer{vec.WithLabelValues(values...)}
}

type counter struct{ c prometheus.Counter }

func (c counter) Inc(n int64) { c.c.Add(float64(n)) }

type gauge struct{ g prometheus.Gauge }

func (g gauge) Update(v float64) { g.g.Set(v) }

type timer struct{ o prometheus.Observer }

func (t timer) Record(d time.Duration) { t.o.Observe(d.Seconds()) }
