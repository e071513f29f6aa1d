#!/usr/bin/env bash
# Brings up the local stack: PostgreSQL, RabbitMQ, the Temporal dev server
# with its Web UI, MinIO, and a second MinIO playing the customer's Amazon S3.
# Idempotent: a running service is left alone, a stopped one is started, a
# missing one is installed (Debian packages) or built (pinned Go modules).
# Prints one line per service with its address and state.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"

mkdir -p "$STATE_DIR"/{logs,run,data}
states=()
report() { states+=("$(printf '%-12s %-26s %s' "$1" "$2" "$3")"); }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    apt-get update -q >/dev/null
    apt_updated=1
  fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

# daemon NAME COMMAND...: start COMMAND detached, logging to the state folder
# and remembering its pid for `make stack-down`.
daemon() {
  local name=$1; shift
  setsid nohup "$@" >>"$STATE_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE_DIR/run/$name.pid"
}

postgres() {
  local state="up"
  if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
    if ! command -v pg_ctlcluster >/dev/null; then
      apt_install postgresql
      state="installed, started"
    else
      state="started"
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_for postgres 60 pg_isready -q -h 127.0.0.1 -p "$PG_PORT"
  fi
  # The programs connect over TCP as postgres/postgres. A fresh Debian
  # install asks TCP clients for a password, so give postgres that one.
  if ! PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  fi
  report postgres "127.0.0.1:$PG_PORT" "$state"
}

rabbitmq() {
  local state="up"
  if ! port_open "$AMQP_PORT"; then
    if ! command -v rabbitmq-server >/dev/null; then
      apt_install rabbitmq-server
      state="installed, started"
    else
      state="started"
    fi
    port_open "$AMQP_PORT" || rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_for rabbitmq 120 port_open "$AMQP_PORT"
    rabbitmqctl -q await_startup >/dev/null 2>&1 || true
  fi
  report rabbitmq "127.0.0.1:$AMQP_PORT" "$state"
}

temporal() {
  local state="up"
  if ! port_open "$TEMPORAL_PORT"; then
    "$here/build-tools.sh" >&2
    mkdir -p "$STATE_DIR/data/temporal"
    # State persists in one SQLite file, so a restart keeps every
    # workflow's history.
    # Eager activity dispatch hands a worker the activity it schedules in
    # the reply to its workflow task, saving a trip through matching; the
    # server ships with it off. Fairness dispatches each tenant's tasks in
    # turn (the fairness key Deliver sets); it is off by default too.
    # Temporal deletes an erased contact's history only once the queue
    # has acknowledged the run's close, which it records every 30 s by
    # default: 5 s lets an erasure's deletion finish in seconds.
    daemon temporal "$TEMPORAL_BIN" server start-dev \
      --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
      --db-filename "$STATE_DIR/data/temporal/temporal.db" \
      --dynamic-config-value system.enableActivityEagerExecution=true \
      --dynamic-config-value matching.enableFairness=true \
      --dynamic-config-value history.transferProcessorUpdateAckInterval='"5s"' \
      --namespace default --log-level warn
    state="started"
  fi
  wait_for temporal 90 "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT"
  wait_for temporal-ui 30 port_open "$TEMPORAL_UI_PORT"
  report temporal "127.0.0.1:$TEMPORAL_PORT" "$state"
  report temporal-ui "http://127.0.0.1:$TEMPORAL_UI_PORT" "$state"
}

# minio_instance NAME PORT CONSOLE USER PASSWORD
minio_instance() {
  local name=$1 port=$2 console=$3 user=$4 password=$5 state="up"
  if ! port_open "$port"; then
    "$here/build-tools.sh" >&2
    mkdir -p "$STATE_DIR/data/$name"
    MINIO_ROOT_USER="$user" MINIO_ROOT_PASSWORD="$password" \
      MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
      daemon "$name" "$MINIO_BIN" server --quiet \
      --address "127.0.0.1:$port" --console-address "127.0.0.1:$console" \
      "$STATE_DIR/data/$name"
    state="started"
  fi
  wait_for "$name" 60 curl -fsS "http://127.0.0.1:$port/minio/health/ready"
  report "$name" "127.0.0.1:$port" "$state (console 127.0.0.1:$console)"
}

postgres
rabbitmq
temporal
minio_instance minio "$MINIO_PORT" "$MINIO_CONSOLE_PORT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
minio_instance s3 "$S3_PORT" "$S3_CONSOLE_PORT" "$S3_ROOT_USER" "$S3_ROOT_PASSWORD"

echo "local stack (state, logs and data in $STATE_DIR):"
printf '  %s\n' "${states[@]}"
