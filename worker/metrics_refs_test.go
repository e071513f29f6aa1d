package main

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/metrics"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestDashboardsAndAlertsReadTheWorkersSeries(t *testing.T) {
	families := metrics.Families(newWorkerMetrics().collectors()...)
	refs := testenv.MetricsReferenced(t, "worker_")
	if len(refs) == 0 {
		t.Fatal("no dashboard or alert reads a worker series")
	}
	for _, name := range refs {
		if !families[testenv.Family(name, families)] {
			t.Errorf("the dashboards or alerts read %s, which the worker does not export", name)
		}
	}
}
