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
	report, failed := render(parse(strings.NewReader(out)), "test", "the Temporal dev server", goals, nil)
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
	if !strings.Contains(report, "[BENCHMARKS-postgres.md](BENCHMARKS-postgres.md)") {
		t.Error("the goals report does not point at the scale-out figures")
	}
}

func TestRenderScaleFigures(t *testing.T) {
	out := `BenchmarkScaleOut-2 	 1	 1 ns/op	 10.0 conversations/s-1-worker	 12.0 conversations/s-3-workers	 1.2 3-vs-1-worker	 9.0 actions/conversation
BenchmarkScaleOut-2 	 1	 1 ns/op	 20.0 conversations/s-1-worker	 30.0 conversations/s-3-workers	 1.5 3-vs-1-worker	 9.0 actions/conversation
BenchmarkScaleOut-2 	 1	 1 ns/op	 15.0 conversations/s-1-worker	 15.0 conversations/s-3-workers	 1.0 3-vs-1-worker	 9.0 actions/conversation
`
	report, failed := render(parse(strings.NewReader(out)), "test", "the full Temporal server on PostgreSQL", nil, scaleFigures)
	if !failed {
		t.Fatal("figures missing from the input did not fail the report")
	}
	for _, want := range []string{
		"against the local stack (the full Temporal server on PostgreSQL)",
		"| Three workers vs one (median of per-run ratios) | 1.20 3-vs-1-worker | 3 |",
		"| Temporal actions per voice conversation (the server's action counter) | 9.00 actions/conversation | 3 |",
		"| Worker CPU per conversation | missing | 0 |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "| goal |") {
		t.Error("the scale report holds the goals table")
	}
}
