#!/usr/bin/env bash
# Stops what scripts/stack.sh started (Temporal and both MinIO instances).
# PostgreSQL and RabbitMQ are the machine's own services and are left running.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"

# Stops the named services (all of them by default).
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(temporal temporal-ui minio s3)
for name in "${names[@]}"; do
  pidfile="$STATE_DIR/run/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    printf '%-12s stopped\n' "$name"
  else
    printf '%-12s not running\n' "$name"
  fi
  rm -f "$pidfile"
  if [ "$name" = temporal ]; then rm -f "$STATE_DIR/run/temporal.kind"; fi
done
