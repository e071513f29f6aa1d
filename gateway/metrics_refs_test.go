package main

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/metrics"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestDashboardsAndAlertsReadTheGatewaysSeries(t *testing.T) {
	testenv.CheckReferenced(t, "gateway_", metrics.Families(newMetrics().collectors()...))
}
