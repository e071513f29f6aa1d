#!/usr/bin/env bash
# Runs the benchmarks against the local stack (`make bench` brings it up) and
# writes BENCHMARKS.md, comparing each figure with a raw baseline measured in
# the same run. Exits non-zero when a goal is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .bench
go test -run='^$' -bench='^BenchmarkIngest$' -benchtime=60x -count=5 ./gateway | tee .bench/gateway.txt
go run ./internal/benchreport -in .bench/gateway.txt -out BENCHMARKS.md -command "make bench"
