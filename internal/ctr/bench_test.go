package ctr_test

import (
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
)

// BenchmarkIdentify measures the gateway's per-record validation of a
// realistic CTR.
func BenchmarkIdentify(b *testing.B) {
	raw := ctrtest.Sample(ctrtest.Options{
		ContactID: ctrtest.ContactID(42, 1), InstanceARN: "arn:aws:connect:eu-west-2:123456789012:instance/bench",
		LastUpdate: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), AgentUsername: "jdoe",
	})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ctr.Identify(raw); err != nil {
			b.Fatal(err)
		}
	}
}
