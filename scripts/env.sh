# Shared settings for the stack scripts. Sourced, never run.
#
# CONNECT_INGEST_CACHE holds binaries built once from pinned module versions; it
# lives outside the repository so that a fresh clone (CI) reuses it.
# CONNECT_INGEST_STATE holds the local stack's data and logs.
CACHE_DIR="${CONNECT_INGEST_CACHE:-$HOME/.cache/connect-ingest}"
STATE_DIR="${CONNECT_INGEST_STATE:-$HOME/.local/state/connect-ingest}"

TEMPORAL_MODULE="github.com/temporalio/cli/cmd/temporal"
TEMPORAL_VERSION="v1.5.1"
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

TEMPORAL_BIN="$CACHE_DIR/temporal-$TEMPORAL_VERSION/temporal"

# TEMPORAL=postgres runs the full Temporal server on the machine's
# PostgreSQL instead of the dev server: the version the dev server embeds,
# its SQL schema tool, and the Web UI server the CLI embeds, each built from
# its Go module.
TEMPORAL_BACKEND="${TEMPORAL:-dev}"
TEMPORAL_SERVER_MODULE="go.temporal.io/server"
TEMPORAL_SERVER_VERSION="v1.29.1"
TEMPORAL_SERVER_BIN="$CACHE_DIR/temporal-server-$TEMPORAL_SERVER_VERSION/server"
TEMPORAL_SQL_BIN="$CACHE_DIR/temporal-server-$TEMPORAL_SERVER_VERSION/sql"
TEMPORAL_UI_MODULE="github.com/temporalio/ui-server/v2/cmd/server"
TEMPORAL_UI_VERSION="v2.42.1"
TEMPORAL_UI_BIN="$CACHE_DIR/temporal-ui-$TEMPORAL_UI_VERSION/server"
# History shards of the Postgres-backed server, fixed when its schema is
# first created.
TEMPORAL_SHARDS="${TEMPORAL_SHARDS:-8}"
MINIO_BIN="$CACHE_DIR/minio-$MINIO_VERSION/minio"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

# Local stack addresses. The Go programs' defaults (internal/config) point at
# these same addresses.
PG_PORT=5432
AMQP_PORT=5672
TEMPORAL_PORT=7233
TEMPORAL_UI_PORT=8233
# The Temporal server's Prometheus metrics (its `action` counter is what
# `make bench` counts a conversation's persisted actions with).
TEMPORAL_METRICS_PORT=7244
MINIO_PORT=9000
MINIO_CONSOLE_PORT=9001
S3_PORT=9100
S3_CONSOLE_PORT=9101
# The Amazon Connect API stand-in (`connectsim serve`) that `make run` starts.
CONNECTSIM_PORT=9200
MINIO_ROOT_USER="${MINIO_ACCESS_KEY:-minioadmin}"
MINIO_ROOT_PASSWORD="${MINIO_SECRET_KEY:-minioadmin}"
# Credentials of the S3 stand-in (the customer's bucket); connectsim and the
# tenant's AWS settings use the same pair.
S3_ROOT_USER="connectsim"
S3_ROOT_PASSWORD="connectsim-secret"

# port_open PORT: whether something listens on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for NAME SECONDS COMMAND...: run COMMAND until it succeeds, for at
# most SECONDS, saying what it waits for.
wait_for() {
  local name=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      log "$name did not come up within ${secs}s"
      return 1
    fi
    sleep 0.5
  done
}
