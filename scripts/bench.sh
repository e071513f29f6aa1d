#!/usr/bin/env bash
# Runs the benchmarks against the local stack (`make bench` brings it up) and
# writes BENCHMARKS.md, comparing each figure with a baseline measured in the
# same run. Exits non-zero when a goal is missed. Takes about fifteen minutes: the medians need several interleaved runs
# on 2 shared cores, where one run swings by ±10%.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .bench
out=.bench/bench.txt
: >"$out"
go test -run='^$' -bench='^BenchmarkIngest$' -benchtime=60x -count=9 ./gateway | tee -a "$out"
go test -run='^$' -bench='^BenchmarkCopy$' -benchtime=5x -count=3 ./activities | tee -a "$out"
go test -run='^$' -bench='^BenchmarkEndToEnd$' -benchtime=2x -count=5 ./e2e | tee -a "$out"
go test -run='^$' -bench='^BenchmarkRecordingMemory$' -benchtime=1x -count=3 ./e2e | tee -a "$out"
go run ./cmd/benchreport -in "$out" -out BENCHMARKS.md -command "make bench"
