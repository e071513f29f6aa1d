package main

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/metrics"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestDashboardsAndAlertsReadTheGatewaysSeries(t *testing.T) {
	families := metrics.Families(newMetrics().collectors()...)
	refs := testenv.MetricsReferenced(t, "gateway_")
	if len(refs) == 0 {
		t.Fatal("no dashboard or alert reads a gateway series")
	}
	for _, name := range refs {
		if !families[testenv.Family(name, families)] {
			t.Errorf("the dashboards or alerts read %s, which the gateway does not export", name)
		}
	}
}
