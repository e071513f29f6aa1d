#!/usr/bin/env bash
# Builds the Temporal CLI (dev server + Web UI) and MinIO from their pinned Go
# module versions into the cache, in parallel, printing progress while they
# compile; with TEMPORAL=postgres, the full Temporal server, its SQL schema
# tool and the Web UI server too. A binary already in the cache is never
# rebuilt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"

# build NAME MODULE VERSION BIN [PACKAGE...]: go install MODULE@VERSION (or
# each PACKAGE of it at VERSION) into BIN's folder.
build() {
  local name=$1 module=$2 version=$3 bin=$4
  shift 4
  local pkgs=("$module@$version")
  if [ $# -gt 0 ]; then
    pkgs=()
    for p in "$@"; do pkgs+=("$p@$version"); done
  fi
  if [ -x "$bin" ]; then
    log "$name $version: cached at $bin"
    return 0
  fi
  local dir tmp
  dir="$(dirname "$bin")"
  tmp="$dir.partial"
  rm -rf "$tmp" && mkdir -p "$tmp"
  log "$name $version: building (cold builds take 10-20 minutes on 2 cores; log in $tmp.log)"
  if ! GOBIN="$tmp" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "${pkgs[@]}" >"$tmp.log" 2>&1; then
    log "$name: build failed, last lines of $tmp.log:"
    tail -n 20 "$tmp.log" >&2
    return 1
  fi
  rm -rf "$dir" && mv "$tmp" "$dir"
  log "$name $version: built at $bin"
}

pids=()
build temporal "$TEMPORAL_MODULE" "$TEMPORAL_VERSION" "$TEMPORAL_BIN" & pids+=($!)
build minio "$MINIO_MODULE" "$MINIO_VERSION" "$MINIO_BIN" & pids+=($!)
if [ "$TEMPORAL_BACKEND" = postgres ]; then
  build temporal-server "$TEMPORAL_SERVER_MODULE" "$TEMPORAL_SERVER_VERSION" "$TEMPORAL_SERVER_BIN" \
    "$TEMPORAL_SERVER_MODULE/cmd/server" "$TEMPORAL_SERVER_MODULE/cmd/tools/sql" & pids+=($!)
  build temporal-ui "$TEMPORAL_UI_MODULE" "$TEMPORAL_UI_VERSION" "$TEMPORAL_UI_BIN" & pids+=($!)
fi

# Progress: while either build runs, say so every 30 seconds with the elapsed
# time, so that a long cold build is never mistaken for a hang.
start=$SECONDS
last=$SECONDS
while :; do
  running=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
  [ "$running" -eq 0 ] && break
  sleep 5
  if (( SECONDS - last >= 30 )); then
    last=$SECONDS
    log "still building ($running left, $((SECONDS - start))s elapsed)"
  fi
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
