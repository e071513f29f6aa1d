// Command benchreport reads `go test -bench` output and writes BENCHMARKS.md:
// each goal compares a benchmark with its raw baseline from the same run and
// reports the ratio against the goal. `make bench` runs it.
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

// goal compares one benchmark's metric with its baseline's (Min, a ratio),
// or, without a baseline, holds the metric under an absolute Max.
type goal struct {
	Title    string
	Bench    string // sub-benchmark name without the -N suffix
	Baseline string
	Metric   string
	Min      float64 // the ratio bench/baseline must reach at least this
	Max      float64 // the metric itself must stay at most this
}

var goals = []goal{
	{
		Title:    "Gateway throughput: CTRs answered 200 per second vs raw confirmed publishing",
		Bench:    "BenchmarkIngest/gateway",
		Baseline: "BenchmarkIngest/raw",
		Metric:   "records/s",
		Min:      0.8,
	},
	{
		Title:    "End to end: conversations per second, Firehose post to analysis enqueue, 1 MB recordings, vs a bare workflow of six no-op activities",
		Bench:    "BenchmarkEndToEnd/pipeline",
		Baseline: "BenchmarkEndToEnd/bare",
		Metric:   "conversations/s",
		Min:      0.7,
	},
	{
		Title:    "Recording copy throughput, S3 stand-in to MinIO, vs a raw GetObject-to-PutObject copy",
		Bench:    "BenchmarkCopy/activity",
		Baseline: "BenchmarkCopy/raw",
		Metric:   "MB/s",
		Min:      0.8,
	},
	{
		Title:  "Worker peak RSS growth copying a 512 MB recording after a 1 MB one",
		Bench:  "BenchmarkRecordingMemory",
		Metric: "rss-growth-MB",
		Max:    32,
	},
}

func main() {
	in := flag.String("in", "", "go test -bench output")
	out := flag.String("out", "BENCHMARKS.md", "report to write")
	command := flag.String("command", "make bench", "the command that produced the input")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	defer f.Close()
	results := parse(f)
	report, failed := render(results, *command)
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

func render(results map[string]map[string][]float64, command string) (string, bool) {
	var b strings.Builder
	failed := false
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `%s` on %s. Machine: %s, %d cores, %s; %s.\n",
		command, time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), runtime.NumCPU(), memTotal(), runtime.Version())
	fmt.Fprintf(&b, "Each figure is the median of the runs; each ratio compares figures measured in the same run, on loopback against the local stack.\n\n")
	fmt.Fprintf(&b, "| goal | measured | baseline | ratio | goal | result |\n|---|---|---|---|---|---|\n")
	for _, g := range goals {
		vals := results[g.Bench][g.Metric]
		got := median(vals)
		verdict := "missing"
		if g.Baseline == "" {
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
		base := median(results[g.Baseline][g.Metric])
		ratio := 0.0
		if got > 0 && base > 0 {
			ratio = got / base
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
	fmt.Fprintf(&b, "\nRuns per benchmark:\n\n")
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for metric, vs := range results[n] {
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
