// Package config loads every program's settings from environment variables.
//
// Every variable has a default that points at the local stack (`make stack`),
// so each program runs with no variable set. The variables are declared once,
// in the table returned by Vars; the README's configuration table and
// docker-compose.yml are checked against it by tests.
package config

// Var describes one environment variable.
type Var struct {
	// Name is the environment variable's name.
	Name string
	// Default is used when the variable is unset or empty.
	Default string
	// Description says what the variable controls, for the README's table.
	Description string
}

// vars lists every variable that Load reads, in the README's order. Temporal's
// and the AWS SDK's own names are used where they exist.
var vars = []Var{
	{"LOG_LEVEL", "info", "Log level: debug, info, warn or error."},
	{"DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/connect_ingest?sslmode=disable", "PostgreSQL connection URL; the database is created where missing."},
	{"AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ connection URL."},
	{"AMQP_CTR_QUEUE", "connect.ctr", "Quorum queue that carries CTRs from the gateway to the worker."},
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port."},
	{"TEMPORAL_NAMESPACE", "default", "Temporal namespace."},
	{"TEMPORAL_TASK_QUEUE", "connect-ingest", "Temporal task queue of the conversation and agent-sync workflows."},
	{"TEMPORAL_UI_URL", "http://127.0.0.1:8233", "Base URL of the Temporal Web UI, used for links to workflows."},
	{"GATEWAY_LISTEN_ADDR", ":8080", "Gateway listener for Firehose deliveries (POST /firehose)."},
	{"GATEWAY_ADMIN_ADDR", "127.0.0.1:8081", "Gateway internal listener: health, readiness and metrics."},
	{"GATEWAY_TLS_CERT_FILE", "", "PEM certificate (with its chain) the Firehose listener serves HTTPS with; read again when the file changes. Empty serves plain HTTP, for a TLS proxy in front (Firehose only delivers to https:// endpoints)."},
	{"GATEWAY_TLS_KEY_FILE", "", "PEM private key of GATEWAY_TLS_CERT_FILE; set both or neither."},
	{"GATEWAY_MAX_BODY_BYTES", "67108864", "Largest request body accepted, as sent (Firehose sends at most 64 MiB)."},
	{"GATEWAY_MAX_DECODED_BYTES", "67108864", "Largest body accepted after gzip decompression; more is refused with 400."},
	{"GATEWAY_CONFIRM_TIMEOUT", "30s", "How long a batch may wait for RabbitMQ's publisher confirms before the gateway answers 503."},
	{"GATEWAY_PUBLISH_CHANNELS", "8", "AMQP channels the gateway publishes on; one batch holds one channel at a time."},
	{"GATEWAY_KEY_CACHE_TTL", "30s", "How long a verified access key is trusted before it is looked up again (bounds revocation delay)."},
	{"GATEWAY_BATCHES_IN_FLIGHT", "8", "Deliveries the gateway works on at once; each holds up to GATEWAY_MAX_DECODED_BYTES, so size it to the gateway's memory. Past it: 503, which Firehose retries."},
	{"GATEWAY_TENANT_BATCHES_IN_FLIGHT", "4", "Deliveries one tenant may have in flight at once; past it that tenant gets 503 (Firehose retries) and other tenants are untouched."},
	{"QUARANTINE_TENANT_QUOTA", "10000", "Quarantined records a tenant keeps with their bytes (the first 64 KiB of each); past it, records are still kept with reason, length and SHA-256, a warning is logged and *_quarantined_over_quota_total counts them."},
	{"QUARANTINE_RETENTION", "720h", "How long quarantined records are kept; the quarantine-retention schedule deletes older ones every hour."},
	{"WORKER_HEALTH_ADDR", "127.0.0.1:9091", "Worker listener for health, readiness and metrics."},
	{"WORKER_PREFETCH", "256", "CTR messages the worker holds unacked at once (RabbitMQ prefetch), each one record of at most 1 MB; enough that a burst drains into Temporal's fair task queue instead of holding other tenants' CTRs in RabbitMQ (docs/SCALING.md)."},
	{"WORKER_EAGER_STARTS", "16", "Workflow tasks the worker runs at once that skipped the Temporal task queue: a CTR of a new conversation is started with its first task handed straight back to the worker (eager start) while fewer than this many are running, and through the task queue, which serves tenants in turn, otherwise. 0 starts every conversation through the task queue."},
	{"WORKER_DELIVERY_RETRY_FOR", "2m", "How long the worker retries storing a CTR message or handing it to Temporal before it returns the message to the queue; after the queue's delivery limit (20) RabbitMQ dead-letters it."},
	{"MINIO_ENDPOINT", "127.0.0.1:9000", "MinIO host:port of the analytics platform's recording store."},
	{"MINIO_ACCESS_KEY", "minioadmin", "MinIO access key."},
	{"MINIO_SECRET_KEY", "minioadmin", "MinIO secret key."},
	{"MINIO_USE_SSL", "false", "Whether to reach MinIO over TLS."},
	{"MINIO_BUCKET", "recordings", "MinIO bucket that receives copied recordings; created where missing."},
	{"AMQP_ANALYSIS_QUEUE", "analysis", "Quorum queue that receives one job per conversation ready for analysis."},
	{"S3_STANDIN_ACCESS_KEY", "connectsim", "Access key for tenants whose AWS endpoint is overridden (local stand-ins); other tenants use the AWS default credential chain."},
	{"S3_STANDIN_SECRET_KEY", "connectsim-secret", "Secret key paired with S3_STANDIN_ACCESS_KEY."},
	{"CONNECT_API_RATE", "1.5", "Amazon Connect API requests per second the agent sync makes per tenant; Connect's default quota is 2 per account, shared with the customer's other tools."},
	{"CONNECT_API_BURST", "3", "Amazon Connect API requests the agent sync may make in a burst per tenant (Connect's default burst is 5)."},
	{"WORKER_INLINE_COPY_MAX_BYTES", "33554432", "Recordings up to this size (32 MiB, about 17 minutes of Connect's stereo audio) are copied inside the workflow task that decides the copy, as a local activity; larger ones, late ones, and all when 0, by the copy activity with its own retries."},
	{"RECORDING_WAIT_WINDOW", "15m", "How long a conversation waits for its recording to appear in S3 before it is marked recording_missing."},
	{"RECONCILE_WINDOW", "24h", "How much of each tenant's recent past the nightly reconciliation compares with Amazon Connect's SearchContacts (contacts that ended in it)."},
	{"RECONCILE_DELAY", "1h", "The nightly reconciliation's window ends this long before it runs, so that CTRs Firehose is still delivering have arrived."},
	{"WORKER_ADMIN_ADDR", "127.0.0.1:9092", "Listen address of the worker's admin API (calls: list, show, retry, cancel); internal, never the Firehose port."},
	{"WORKER_ADMIN_TOKEN", "local-admin-token", "Bootstrap token of the admin API, acting as operator \"bootstrap\" with the operate role: for local use and to reach the API before operators have tokens of their own (`ingestctl operators create`). `off` disables it; the default is refused unless WORKER_ADMIN_ADDR is a loopback address."},
	{"CALLS_STUCK_AFTER", "30m", "A running conversation older than this is stuck (`ingestctl calls list --stuck`, the admin API)."},
	{"CALLS_STUCK_ATTEMPTS", "5", "A running conversation whose activity is on this attempt or later is stuck."},
}

// renamed maps each retired variable to the one that replaced it. Load
// refuses a retired name rather than ignore it, so a deployment that still
// sets one learns at start-up instead of running on a default.
var renamed = map[string]string{
	"ADMIN_ADDR":  "WORKER_ADMIN_ADDR",
	"ADMIN_TOKEN": "WORKER_ADMIN_TOKEN",
}

// Vars returns the table of every environment variable Load reads.
func Vars() []Var {
	return append([]Var(nil), vars...)
}
