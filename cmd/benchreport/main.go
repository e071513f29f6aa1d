// Command benchreport reads `go test -bench` output and writes BENCHMARKS.md:
// each goal compares a benchmark with its baseline, run by run, and holds
// the median of the per-run ratios to the goal. `make bench` runs it.
//
// Usage: go run ./cmd/benchreport -in bench.txt -out BENCHMARKS.md -command "make bench"
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// goal holds one benchmark's metric to a goal: the median of its per-run
// Ratio metric (each run measured the benchmark and its baseline back to
// back and reported their ratio) at least Min, or, without a Ratio, the
// metric itself at most Max.
type goal struct {
	Title    string
	Bench    string // benchmark name without the -N suffix
	Metric   string
	Baseline string // the baseline's metric, reported beside the ratio
	Ratio    string // the per-run ratio metric
	Min      float64
	Max      float64
}

var goals = []goal{
	{
		Title:  "Gateway throughput: CTRs answered 200 per second vs raw confirmed publishing",
		Bench:  "BenchmarkIngest",
		Metric: "records/s", Baseline: "raw-records/s", Ratio: "vs-raw",
		Min: 0.8,
	},
	{
		Title:  "End to end, voice calls with their 1 MB recording present (Firehose post to analysis enqueue) vs Temporal's raw rate for an empty workflow started by signal-with-start",
		Bench:  "BenchmarkEndToEnd",
		Metric: "conversations/s", Baseline: "empty-conversations/s", Ratio: "vs-empty",
		Min: 0.5,
	},
	{
		Title:  "End to end, the same voice calls vs a bare workflow of six no-op activities (the first pipeline's shape)",
		Bench:  "BenchmarkEndToEnd",
		Metric: "conversations/s", Baseline: "bare-conversations/s", Ratio: "vs-bare",
		Min: 2.5,
	},
	{
		Title:  "End to end, a realistic mix (a third of recordings 30-90 s late, 15% chats, a fifth of CTRs re-sent or updated) vs the bare six-activity workflow, both offered open-loop at the same rate and sustained over a window as long",
		Bench:  "BenchmarkMix",
		Metric: "conversations/s", Baseline: "bare-conversations/s", Ratio: "vs-bare",
		Min: 2,
	},
	{
		Title:  "Temporal history per voice conversation (whole history, protobuf bytes)",
		Bench:  "BenchmarkEndToEnd",
		Metric: "history-bytes",
		Max:    4096,
	},
	{
		Title:  "Recording copy throughput, S3 stand-in to MinIO, vs a raw GetObject-to-PutObject copy that hashes and signs as the activity does",
		Bench:  "BenchmarkCopy",
		Metric: "MB/s", Baseline: "raw-MB/s", Ratio: "vs-raw",
		Min: 0.8,
	},
	{
		Title:  "Worker peak RSS growth copying a 512 MB recording after a 1 MB one",
		Bench:  "BenchmarkRecordingMemory",
		Metric: "rss-growth-MB",
		Max:    32,
	},
}

// figure is a measurement reported without a goal: the median of its runs.
type figure struct {
	Title  string
	Bench  string
	Metric string
}

// scaleFigures are what BenchmarkScaleOut measures for docs/SCALING.md.
var scaleFigures = []figure{
	{"End to end, voice calls with their 1 MB recording present, one worker", "BenchmarkScaleOut", "conversations/s-1-worker"},
	{"The same, three workers on one task queue", "BenchmarkScaleOut", "conversations/s-3-workers"},
	{"Three workers vs one (median of per-run ratios)", "BenchmarkScaleOut", "3-vs-1-worker"},
	{"The server's raw rate: an empty workflow started by signal-with-start", "BenchmarkScaleOut", "empty-conversations/s"},
	{"Three workers vs the server's raw rate (median of per-run ratios)", "BenchmarkScaleOut", "3-workers-vs-empty"},
	{"Temporal actions per voice conversation (the server's action counter)", "BenchmarkScaleOut", "actions/conversation"},
	{"Worker CPU per conversation", "BenchmarkScaleOut", "worker-cpu-ms/conversation"},
	{"Gateway CPU per conversation", "BenchmarkScaleOut", "gateway-cpu-ms/conversation"},
	{"Temporal server CPU per conversation", "BenchmarkScaleOut", "temporal-cpu-ms/conversation"},
	{"PostgreSQL CPU per conversation (connect-ingest's and, on the full server, Temporal's persistence)", "BenchmarkScaleOut", "postgres-cpu-ms/conversation"},
	{"RabbitMQ CPU per conversation", "BenchmarkScaleOut", "rabbitmq-cpu-ms/conversation"},
}

// scaleNote points the goals report at the scale-out figures, which the
// production shape of Temporal measures.
const scaleNote = "Scale-out (one worker against three, the full Temporal server's raw rate on PostgreSQL, Temporal actions and CPU per conversation) is measured by `make bench TEMPORAL=postgres` into [BENCHMARKS-postgres.md](BENCHMARKS-postgres.md); [docs/SCALING.md](docs/SCALING.md) sizes a deployment from it."

// suites are the reports benchreport writes: the goals and figures each
// holds.
var suites = map[string]struct {
	goals   []goal
	figures []figure
}{
	"goals": {goals: goals},
	"scale": {figures: scaleFigures},
}

func main() {
	in := flag.String("in", "", "go test -bench output")
	out := flag.String("out", "BENCHMARKS.md", "report to write")
	command := flag.String("command", "make bench", "the command that produced the input")
	suite := flag.String("suite", "goals", "what to report: goals (each benchmark held to its goal) or scale (BenchmarkScaleOut's figures)")
	temporal := flag.String("temporal", "the Temporal dev server", "the Temporal the benchmarks ran against")
	flag.Parse()
	chosen, ok := suites[*suite]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchreport: no suite %q\n", *suite)
		os.Exit(1)
	}
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	defer f.Close()
	results := parse(f)
	report, failed := render(results, *command, *temporal, chosen.goals, chosen.figures)
	if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	fmt.Print(report)
	if failed {
		os.Exit(2)
	}
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse returns every value of every metric, per benchmark name.
func parse(r io.Reader) map[string]map[string][]float64 {
	out := map[string]map[string][]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			if out[m[1]] == nil {
				out[m[1]] = map[string][]float64{}
			}
			out[m[1]][fields[i+1]] = append(out[m[1]][fields[i+1]], v)
		}
	}
	return out
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2]
}

func render(results map[string]map[string][]float64, command, temporal string, goals []goal, figures []figure) (string, bool) {
	var b strings.Builder
	failed := false
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `%s` on %s. Machine: %s, %d cores, %s; %s.\n",
		command, time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), runtime.NumCPU(), memTotal(), runtime.Version())
	fmt.Fprintf(&b, "Each figure is the median of the runs. Each run measures a benchmark and its baseline back to back and reports their ratio; a ratio here is the median of those per-run ratios, never a ratio of two medians. All on loopback against the local stack (%s).\n\n", temporal)
	if len(figures) > 0 {
		fmt.Fprintf(&b, "| figure | median | runs |\n|---|---|---|\n")
		for _, f := range figures {
			vals := results[f.Bench][f.Metric]
			if len(vals) == 0 {
				failed = true
				fmt.Fprintf(&b, "| %s | missing | 0 |\n", f.Title)
				continue
			}
			fmt.Fprintf(&b, "| %s | %.2f %s | %d |\n", f.Title, median(vals), f.Metric, len(vals))
		}
	}
	if len(goals) > 0 {
		fmt.Fprintf(&b, "| goal | measured | baseline | ratio | goal | result |\n|---|---|---|---|---|---|\n")
	}
	for _, g := range goals {
		vals := results[g.Bench][g.Metric]
		got := median(vals)
		verdict := "missing"
		if g.Ratio == "" {
			if len(vals) > 0 {
				verdict = "pass"
				if got > g.Max {
					verdict = "FAIL"
				}
			}
			if verdict != "pass" {
				failed = true
			}
			fmt.Fprintf(&b, "| %s | %.1f %s | - | - | ≤ %.0f %s | %s |\n", g.Title, got, g.Metric, g.Max, g.Metric, verdict)
			continue
		}
		base := median(results[g.Bench][g.Baseline])
		ratios := results[g.Bench][g.Ratio]
		ratio := median(ratios)
		if len(ratios) > 0 {
			verdict = "pass"
			if ratio < g.Min {
				verdict = "FAIL"
			}
		}
		if verdict != "pass" {
			failed = true
		}
		fmt.Fprintf(&b, "| %s | %.1f %s | %.1f %s | %.2f | ≥ %.2f | %s |\n", g.Title, got, g.Metric, base, g.Metric, ratio, g.Min, verdict)
	}
	if len(goals) > 0 {
		fmt.Fprintf(&b, "\n%s\n", scaleNote)
	}
	fmt.Fprintf(&b, "\nRuns per benchmark:\n\n")
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		metrics := make([]string, 0, len(results[n]))
		for m := range results[n] {
			metrics = append(metrics, m)
		}
		slices.Sort(metrics)
		for _, metric := range metrics {
			vs := results[n][metric]
			if metric == "ns/op" {
				continue
			}
			parts := make([]string, len(vs))
			for i, v := range vs {
				parts[i] = strconv.FormatFloat(v, 'f', 1, 64)
			}
			fmt.Fprintf(&b, "- %s: %s %s\n", n, strings.Join(parts, ", "), metric)
		}
	}
	return b.String(), failed
}

func cpuModel() string {
	out, err := exec.Command("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").Output()
	if err != nil || len(strings.TrimSpace(string(out))) == 0 {
		return runtime.GOARCH
	}
	return strings.TrimSpace(string(out))
}

func memTotal() string {
	out, err := exec.Command("sh", "-c", "grep -m1 MemTotal /proc/meminfo | awk '{print $2}'").Output()
	if err != nil {
		return "memory unknown"
	}
	kb, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return "memory unknown"
	}
	return fmt.Sprintf("%.0f GiB memory", kb/1024/1024)
}
