#!/usr/bin/env bash
# Runs the gateway and the worker in the foreground against the local stack
# (`make run` brings the stack up first). Ctrl-C stops both cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

go build -o bin/ ./gateway ./worker ./cmd/...

bin/worker & worker=$!
bin/gateway & gateway=$!

stop() {
  kill -TERM "$gateway" "$worker" 2>/dev/null || true
  wait "$gateway" "$worker" 2>/dev/null || true
}
trap 'stop; exit 0' INT TERM

cat <<MSG

connect-ingest is running:
  Firehose endpoint   http://127.0.0.1:8080/firehose
  gateway admin       http://127.0.0.1:8081/metrics  (/healthz, /readyz)
  worker              http://127.0.0.1:9091/metrics  (/healthz, /readyz)
  Temporal UI         http://127.0.0.1:$TEMPORAL_UI_PORT
  MinIO console       http://127.0.0.1:$MINIO_CONSOLE_PORT  ($MINIO_ROOT_USER / $MINIO_ROOT_PASSWORD)
  S3 stand-in         http://127.0.0.1:$S3_PORT  ($S3_ROOT_USER / $S3_ROOT_PASSWORD)
Press Ctrl-C to stop.

MSG

# If either program exits on its own, stop the other and report failure.
set +e
wait -n "$gateway" "$worker"
status=$?
stop
exit "$status"
