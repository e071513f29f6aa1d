package main

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/metrics"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestDashboardsAndAlertsReadTheWorkersSeries(t *testing.T) {
	testenv.CheckReferenced(t, "worker_", metrics.Families(newWorkerMetrics().collectors()...))
}
