#!/usr/bin/env bash
# Runs the gateway and the worker in the foreground against the local stack
# (`make run` brings the stack up first). Ctrl-C stops them cleanly.
# GATEWAYS=N and WORKERS=M run several of each against the one stack: the
# i-th (from 0) listens 100*i ports above the first's.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

go build -o bin/ ./gateway ./worker ./cmd/...

gateways=${GATEWAYS:-1}
workers=${WORKERS:-1}
pids=()
for ((i = 0; i < workers; i++)); do
  WORKER_HEALTH_ADDR="127.0.0.1:$((9091 + 100 * i))" WORKER_ADMIN_ADDR="127.0.0.1:$((9092 + 100 * i))" bin/worker &
  pids+=($!)
done
for ((i = 0; i < gateways; i++)); do
  GATEWAY_LISTEN_ADDR="127.0.0.1:$((8080 + 100 * i))" GATEWAY_ADMIN_ADDR="127.0.0.1:$((8081 + 100 * i))" bin/gateway &
  pids+=($!)
done
# The Amazon Connect API stand-in the demo tenant's agent sync and
# reconciliation read, with Connect's own default quota; its contacts are
# those the demo's days created.
contacts="$STATE_DIR/connectsim-contacts.jsonl"
bin/connectsim serve --addr "127.0.0.1:$CONNECTSIM_PORT" --users 50 --contacts "$contacts" &
pids+=($!)

stop() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop; exit 0' INT TERM

cat <<MSG

connect-ingest is running ($gateways gateway(s) on ports 8080, 8180, ...; $workers worker(s) on 9091, 9191, ...):
  Firehose endpoint   http://127.0.0.1:8080/firehose
  gateway admin       http://127.0.0.1:8081/metrics  (/healthz, /readyz)
  worker              http://127.0.0.1:9091/metrics  (/healthz, /readyz)
  admin API           http://127.0.0.1:9092/v1/calls  (Authorization: Bearer ${WORKER_ADMIN_TOKEN:-local-admin-token})
  Temporal UI         http://127.0.0.1:$TEMPORAL_UI_PORT
  MinIO console       http://127.0.0.1:$MINIO_CONSOLE_PORT  ($MINIO_ROOT_USER / $MINIO_ROOT_PASSWORD)
  S3 stand-in         http://127.0.0.1:$S3_PORT  ($S3_ROOT_USER / $S3_ROOT_PASSWORD)
  Connect API stand-in http://127.0.0.1:$CONNECTSIM_PORT  (connectsim serve, 50 users)
Press Ctrl-C to stop.

MSG

# The demo: a tenant on the S3 stand-in and a small day of calls through the
# whole system, then where each call ended. DEMO=0 skips it.
demo() {
  local arn="arn:aws:connect:eu-west-2:111122223333:instance/0d3e1f00-demo-4c0n-8ec7-000000000001"
  local key="demo-firehose-access-key-000000000001"
  local bucket="demo-connect-recordings"
  for url in http://127.0.0.1:8081/readyz http://127.0.0.1:9091/readyz; do
    until curl -fsS "$url" >/dev/null 2>&1; do sleep 0.5; done
  done
  local settings=(--name "Demo contact centre" --instance-arn "$arn" --recording-bucket "$bucket"
    --aws-endpoint-url "http://127.0.0.1:$S3_PORT" --connect-endpoint-url "http://127.0.0.1:$CONNECTSIM_PORT")
  # Added once, brought up to date on later runs; either way its agent-sync
  # schedule is saved and the first sync of the stand-in's users runs.
  out=$(bin/ingestctl tenants add --id demo --access-key "$key" "${settings[@]}" 2>&1) ||
    case "$out" in
      *"already exists"*) out=$(bin/ingestctl tenants update demo "${settings[@]}" 2>&1) || { echo "demo tenant: $out"; return 1; } ;;
      *) echo "demo tenant: $out"; return 1 ;;
    esac
  echo "demo: $(grep schedule <<<"$out")"
  echo "demo: sending ${DEMO_CALLS:-40} calls as Amazon Connect and Firehose would, Firehose losing a tenth of them..."
  bin/connectsim day --count "${DEMO_CALLS:-40}" --seed "$(date +%s)" --access-key "$key" --instance-arn "$arn" \
    --bucket "$bucket" --create-bucket --late-delay 20s --quiet --drop 0.1 --contacts "$contacts" --agent-events || return 1
  echo "demo: letting late recordings land and workflows settle..."
  sleep 45
  bin/ingestctl calls list --tenant demo --limit 60
  echo "demo: recovering the lost calls from Connect's SearchContacts and DescribeContact..."
  local today
  today=$(date -u +%Y-%m-%dT00:00:00Z)
  bin/ingestctl backfill demo --from "$today" --to "$(date -u -d tomorrow +%Y-%m-%dT00:00:00Z)" || return 1
  sleep 10
  bin/ingestctl tenants show demo | grep -E '^(agents|schedule|completeness)'
  cat <<HINT

demo: inspect one call with   bin/ingestctl calls show demo CONTACT_ID  (its agent, once the agent sync has run)
      the synced agents         bin/ingestctl agents list demo; bin/ingestctl agents sync demo runs the sync now
      the schedule              http://127.0.0.1:$TEMPORAL_UI_PORT/namespaces/default/schedules
      filter in the Temporal UI http://127.0.0.1:$TEMPORAL_UI_PORT  (TenantId = "demo", ConversationState = "enqueued")
      stuck calls               bin/ingestctl calls list --stuck; bin/ingestctl calls retry|cancel ...
      quarantined records       bin/ingestctl rejected list
      reconciliation runs       bin/ingestctl reconcile list demo  (calls show gives a call's origin)
HINT
}
if [ "${DEMO:-1}" != 0 ]; then
  demo &
fi

# If any program exits on its own, stop the others and report failure.
set +e
wait -n "${pids[@]}"
status=$?
stop
exit "$status"
