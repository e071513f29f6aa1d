#!/usr/bin/env bash
# Runs the benchmarks against the local stack (`make bench` brings it up) and
# writes BENCHMARKS.md. Every run of a benchmark measures it and its baseline
# back to back and reports their ratio; the report holds the median of those
# per-run ratios to each goal, and this script exits non-zero when a goal is
# missed. Takes about forty minutes: the realistic mix and its baseline run
# open-loop for over three minutes per run, and medians need several runs on
# 2 shared cores, where one run swings by ±10%.
#
# With TEMPORAL=postgres it measures what the full Temporal server on
# PostgreSQL adds: end to end with one worker and with three, the server's
# raw rate, and each conversation's actions and CPU (BenchmarkScaleOut),
# into BENCHMARKS-postgres.md; docs/SCALING.md sizes a deployment from it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .bench
out=.bench/bench.txt
: >"$out"
if [ "${TEMPORAL:-dev}" = postgres ]; then
  go test -run='^$' -bench='^BenchmarkScaleOut$' -benchtime=1x -count=3 -timeout 60m ./e2e | tee -a "$out"
  go run ./cmd/benchreport -in "$out" -out BENCHMARKS-postgres.md -suite scale \
    -temporal "the full Temporal server on PostgreSQL, ${TEMPORAL_SHARDS:-8} history shards" -command "make bench TEMPORAL=postgres"
  exit
fi
go test -run='^$' -bench='^BenchmarkIngest$' -benchtime=1x -count=9 ./gateway | tee -a "$out"
go test -run='^$' -bench='^BenchmarkCopy$' -benchtime=2x -count=5 ./activities | tee -a "$out"
go test -run='^$' -bench='^BenchmarkEndToEnd$' -benchtime=2x -count=5 -timeout 30m ./e2e | tee -a "$out"
go test -run='^$' -bench='^BenchmarkMix$' -benchtime=1x -count=3 -timeout 60m ./e2e | tee -a "$out"
go test -run='^$' -bench='^BenchmarkRecordingMemory$' -benchtime=1x -count=3 ./e2e | tee -a "$out"
go run ./cmd/benchreport -in "$out" -out BENCHMARKS.md -command "make bench"
