package main

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	// Three runs: the per-run ratios are 3, 0.5 and 2.5, median 2.5; the
	// medians alone (30/10) would say 3.
	out := `BenchmarkEndToEnd-2 	 1	 1 ns/op	 30.0 conversations/s	 10.0 bare-conversations/s	 3.0 vs-bare	 60.0 empty-conversations/s	 0.5 vs-empty	 3000 history-bytes
BenchmarkEndToEnd-2 	 1	 1 ns/op	 10.0 conversations/s	 20.0 bare-conversations/s	 0.5 vs-bare	 20.0 empty-conversations/s	 0.5 vs-empty	 3100 history-bytes
BenchmarkEndToEnd-2 	 1	 1 ns/op	 50.0 conversations/s	 20.0 bare-conversations/s	 2.5 vs-bare	 100.0 empty-conversations/s	 0.5 vs-empty	 3050 history-bytes
`
	report, failed := render(parse(strings.NewReader(out)), "test")
	if !failed {
		t.Fatal("missing benchmarks did not fail the report")
	}
	for _, want := range []string{
		"| 30.0 conversations/s | 20.0 conversations/s | 2.50 | ≥ 2.50 | pass |",
		"| 30.0 conversations/s | 60.0 conversations/s | 0.50 | ≥ 0.50 | pass |",
		"| 3050.0 history-bytes | - | - | ≤ 4096 history-bytes | pass |",
		"vs a raw GetObject-to-PutObject copy that hashes and signs as the activity does | 0.0 MB/s | 0.0 MB/s | 0.00 | ≥ 0.80 | missing |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(report, "missing") {
		t.Error("absent benchmarks are not marked missing")
	}
}
