package metrics

import (
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// temporalBuckets bound the SDK's latencies, in seconds: 1 ms to about 4 min.
var temporalBuckets = prometheus.ExponentialBuckets(0.001, 4, 10)

// NewTemporalHandler returns the Temporal SDK's own metrics handler (its
// tally contrib with the Prometheus reporter), reporting into reg under
// the names Temporal's SDK dashboard reads: temporal_* counters ending in
// _total, and latencies as histograms in seconds ending in _seconds.
// Registration errors go to onError. Close the returned closer to flush and
// stop the reporting.
func NewTemporalHandler(reg prometheus.Registerer, onError func(error)) (client.MetricsHandler, io.Closer) {
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer: reg, DefaultTimerType: tallyprom.HistogramTimerType, DefaultHistogramBuckets: temporalBuckets,
		OnRegisterError: onError,
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter: reporter, Separator: tallyprom.DefaultSeparator, SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), closer
}
