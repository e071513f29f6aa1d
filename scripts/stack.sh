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

# running_temporal: which Temporal the stack started and still runs (dev or
# postgres), or nothing.
running_temporal() {
  local pidfile="$STATE_DIR/run/temporal.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    cat "$STATE_DIR/run/temporal.kind" 2>/dev/null || echo dev
  fi
}

# switch_temporal: stop the other kind of Temporal when the wanted one is
# not what runs, so that `make stack TEMPORAL=postgres` switches.
switch_temporal() {
  local running
  running=$(running_temporal)
  if [ -n "$running" ] && [ "$running" != "$TEMPORAL_BACKEND" ]; then
    log "stopping the $running Temporal to start the $TEMPORAL_BACKEND one"
    "$here/stack-down.sh" temporal temporal-ui >/dev/null
  elif [ -n "$running" ] && ! port_open "$TEMPORAL_METRICS_PORT"; then
    # Started by an earlier stack.sh that served no metrics: restart it
    # with them (its state persists).
    log "restarting the $running Temporal to serve its metrics on $TEMPORAL_METRICS_PORT"
    "$here/stack-down.sh" temporal >/dev/null
  fi
}

temporal() {
  local state="up"
  switch_temporal
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
      --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" --metrics-port "$TEMPORAL_METRICS_PORT" \
      --db-filename "$STATE_DIR/data/temporal/temporal.db" \
      --dynamic-config-value system.enableActivityEagerExecution=true \
      --dynamic-config-value matching.enableFairness=true \
      --dynamic-config-value history.transferProcessorUpdateAckInterval='"5s"' \
      --namespace default --log-level warn
    echo dev >"$STATE_DIR/run/temporal.kind"
    state="started"
  fi
  wait_for temporal 90 "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT"
  wait_for temporal-ui 30 port_open "$TEMPORAL_UI_PORT"
  report temporal "127.0.0.1:$TEMPORAL_PORT" "$state"
  report temporal-ui "http://127.0.0.1:$TEMPORAL_UI_PORT" "$state"
}

# temporal_postgres runs the full Temporal server on the machine's
# PostgreSQL: its two databases created and their schema applied (and
# upgraded) with Temporal's own SQL tool, TEMPORAL_SHARDS history shards,
# the dynamic config of deploy/temporal, the namespace created with an
# explicit retention, and the Web UI server beside it.
temporal_postgres() {
  local state="up" dir="$STATE_DIR/temporal-postgres"
  switch_temporal
  if ! port_open "$TEMPORAL_PORT"; then
    "$here/build-tools.sh" >&2
    local schema
    schema="$(go env GOMODCACHE)/$TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION/schema/postgresql/v12"
    if [ ! -d "$schema" ]; then
      go mod download "$TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION"
    fi
    local sql=("$TEMPORAL_SQL_BIN" --plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u postgres --pw postgres)
    for db in temporal temporal_visibility; do
      local versioned=temporal
      [ "$db" = temporal_visibility ] && versioned=visibility
      "${sql[@]}" --db "$db" create-database >/dev/null 2>&1 || true
      # A refused connection (too many clients, say) stops here rather than
      # passing for a database without its schema.
      local has_schema
      has_schema="$(PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d "$db" -tAc \
        "SELECT to_regclass('schema_version') IS NOT NULL")" || { log "temporal: cannot query $db"; exit 1; }
      if [ "$has_schema" != t ]; then
        log "temporal: applying the $db schema"
        "${sql[@]}" --db "$db" setup-schema -v 0.0 >>"$STATE_DIR/logs/temporal-schema.log" 2>&1
      fi
      "${sql[@]}" --db "$db" update-schema -d "$schema/$versioned/versioned" >>"$STATE_DIR/logs/temporal-schema.log" 2>&1
    done
    mkdir -p "$dir/config"
    cp "$here/../deploy/temporal/dynamicconfig.yaml" "$dir/dynamicconfig.yaml"
    # Each of the server's four services (frontend, history, matching,
    # worker) opens its own pools, so the server may hold 4 x (12 + 3) = 60
    # connections: PostgreSQL's default max_connections is 100, and
    # connect-ingest's programs, ingestctl and the tests need the rest.
    cat >"$dir/config/development.yaml" <<YAML
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: $TEMPORAL_SHARDS
  datastores:
    default:
      sql: {pluginName: postgres12, databaseName: temporal, connectAddr: "127.0.0.1:$PG_PORT", connectProtocol: tcp,
            user: postgres, password: postgres, maxConns: 12, maxIdleConns: 12, maxConnLifetime: 1h}
    visibility:
      sql: {pluginName: postgres12, databaseName: temporal_visibility, connectAddr: "127.0.0.1:$PG_PORT", connectProtocol: tcp,
            user: postgres, password: postgres, maxConns: 3, maxIdleConns: 3, maxConnLifetime: 1h}
global:
  membership: {maxJoinDuration: 30s, broadcastAddress: 127.0.0.1}
  metrics:
    prometheus: {framework: tally, timerType: histogram, listenAddress: "127.0.0.1:$TEMPORAL_METRICS_PORT"}
services:
  frontend: {rpc: {grpcPort: $TEMPORAL_PORT, membershipPort: 6933, bindOnLocalHost: true, httpPort: 7243}}
  matching: {rpc: {grpcPort: 7235, membershipPort: 6935, bindOnLocalHost: true}}
  history: {rpc: {grpcPort: 7234, membershipPort: 6934, bindOnLocalHost: true}}
  worker: {rpc: {grpcPort: 7239, membershipPort: 6939, bindOnLocalHost: true}}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active: {enabled: true, initialFailoverVersion: 1, rpcName: frontend, rpcAddress: "127.0.0.1:$TEMPORAL_PORT"}
dcRedirectionPolicy: {policy: noop}
dynamicConfigClient: {filepath: "$dir/dynamicconfig.yaml", pollInterval: 10s}
YAML
    daemon temporal "$TEMPORAL_SERVER_BIN" --root "$dir" --config config --env development --allow-no-auth start
    echo postgres >"$STATE_DIR/run/temporal.kind"
    state="started"
  fi
  wait_for temporal 120 "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT"
  # The namespace, with closed runs kept TEMPORAL_RETENTION (failed calls
  # stay in `calls list --failed` that long).
  local retention="${TEMPORAL_RETENTION:-72h}"
  if ! "$TEMPORAL_BIN" operator namespace describe --namespace default --address "127.0.0.1:$TEMPORAL_PORT" >/dev/null 2>&1; then
    wait_for temporal-namespace 60 "$TEMPORAL_BIN" operator namespace create --namespace default --retention "$retention" \
      --address "127.0.0.1:$TEMPORAL_PORT"
  fi
  if ! port_open "$TEMPORAL_UI_PORT"; then
    mkdir -p "$dir/ui/config"
    printf 'temporalGrpcAddress: 127.0.0.1:%s\nport: %s\nenableUi: true\ndefaultNamespace: default\n' \
      "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" >"$dir/ui/config/development.yaml"
    daemon temporal-ui "$TEMPORAL_UI_BIN" --root "$dir/ui" --config config --env development start
  fi
  wait_for temporal-ui 30 port_open "$TEMPORAL_UI_PORT"
  report temporal "127.0.0.1:$TEMPORAL_PORT" "$state (server on PostgreSQL, $TEMPORAL_SHARDS shards)"
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
if [ "$TEMPORAL_BACKEND" = postgres ]; then temporal_postgres; else temporal; fi
minio_instance minio "$MINIO_PORT" "$MINIO_CONSOLE_PORT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
minio_instance s3 "$S3_PORT" "$S3_CONSOLE_PORT" "$S3_ROOT_USER" "$S3_ROOT_PASSWORD"

echo "local stack (state, logs and data in $STATE_DIR):"
printf '  %s\n' "${states[@]}"
