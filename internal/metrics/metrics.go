// Package metrics builds the Prometheus registry each program serves.
package metrics

import (
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns a registry with the Go runtime and process collectors
// and cs. Each program, and each test instance of one, has its own.
func NewRegistry(cs ...prometheus.Collector) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.MustRegister(cs...)
	return r
}

// fqName reads a metric's name from its description.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Families returns the names of the metric families cs describe, including
// vectors that have no series yet (which a scrape leaves out).
func Families(cs ...prometheus.Collector) map[string]bool {
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range cs {
			c.Describe(ch)
		}
		close(ch)
	}()
	names := map[string]bool{}
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
		}
	}
	return names
}
