package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is the settings of every program. Each program reads the part it
// needs; all of it is loaded at once so that a typo fails every program alike.
type Config struct {
	LogLevel string

	DatabaseURL string

	AMQPURL      string
	CTRQueue     string
	TemporalAddr string
	Namespace    string
	TaskQueue    string
	TemporalUI   string

	AnalysisQueue string

	// QuarantineQuota is how many quarantined records a tenant keeps with
	// their bytes; QuarantineRetention how long any is kept.
	QuarantineQuota     int
	QuarantineRetention time.Duration

	Gateway Gateway
	Worker  Worker
	MinIO   MinIO
}

// Gateway holds the Firehose gateway's settings.
type Gateway struct {
	ListenAddr string
	AdminAddr  string
	// TLSCertFile and TLSKeyFile, when set, make the Firehose listener
	// serve HTTPS.
	TLSCertFile, TLSKeyFile string
	MaxBodyBytes            int64
	MaxDecodedBytes         int64
	ConfirmTimeout          time.Duration
	PublishChannels         int
	KeyCacheTTL             time.Duration
	// BatchesInFlight and TenantBatchesInFlight bound the deliveries
	// worked on at once, in all and per tenant.
	BatchesInFlight       int
	TenantBatchesInFlight int
}

// Worker holds the worker's settings.
type Worker struct {
	HealthAddr string
	Prefetch   int
	// EagerStarts bounds the workflow tasks the worker runs at once that
	// were handed to it in the answer to its own starts, past the task
	// queue's fairness.
	EagerStarts int
	// DeliveryRetryFor bounds how long one delivery of a CTR message is
	// retried before it goes back to the queue.
	DeliveryRetryFor time.Duration
	// StandInAccessKey and StandInSecretKey sign requests to tenants whose
	// AWS endpoint is overridden.
	StandInAccessKey string
	StandInSecretKey string
	// ConnectRate and ConnectBurst keep the agent sync under the tenant's
	// Amazon Connect API quota.
	ConnectRate  float64
	ConnectBurst int
	// RecordingWaitWindow bounds the wait for a late recording.
	RecordingWaitWindow time.Duration
	// ReconcileWindow is how much of each tenant's recent past the nightly
	// reconciliation compares with Connect; it ends ReconcileDelay ago, so
	// that late CTRs have arrived.
	ReconcileWindow time.Duration
	ReconcileDelay  time.Duration
	// InlineCopyMaxBytes bounds the recordings copied as a local activity;
	// zero copies every recording with the copy activity.
	InlineCopyMaxBytes int64
	// AdminAddr serves the admin API; AdminToken is its bootstrap token,
	// empty when WORKER_ADMIN_TOKEN is off.
	AdminAddr  string
	AdminToken string
	// StuckAfter and StuckAttempts say when a running conversation is
	// stuck.
	StuckAfter    time.Duration
	StuckAttempts int
}

// MinIO holds the recording store's settings.
type MinIO struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	UseSSL    bool
	Bucket    string
}

// Load reads the configuration through getenv (os.Getenv in programs, a map in
// tests). It reports every malformed variable at once.
func Load(getenv func(string) string) (Config, error) {
	l := loader{getenv: getenv}
	cfg := Config{
		LogLevel:     l.str("LOG_LEVEL"),
		DatabaseURL:  l.str("DATABASE_URL"),
		AMQPURL:      l.str("AMQP_URL"),
		CTRQueue:     l.str("AMQP_CTR_QUEUE"),
		TemporalAddr: l.str("TEMPORAL_ADDRESS"),
		Namespace:    l.str("TEMPORAL_NAMESPACE"),
		TaskQueue:    l.str("TEMPORAL_TASK_QUEUE"),
		TemporalUI:   strings.TrimRight(l.str("TEMPORAL_UI_URL"), "/"),

		QuarantineQuota:     int(l.positiveInt("QUARANTINE_TENANT_QUOTA")),
		QuarantineRetention: l.duration("QUARANTINE_RETENTION"),
		Gateway: Gateway{
			ListenAddr:            l.str("GATEWAY_LISTEN_ADDR"),
			AdminAddr:             l.str("GATEWAY_ADMIN_ADDR"),
			TLSCertFile:           l.str("GATEWAY_TLS_CERT_FILE"),
			TLSKeyFile:            l.str("GATEWAY_TLS_KEY_FILE"),
			MaxBodyBytes:          l.positiveInt("GATEWAY_MAX_BODY_BYTES"),
			BatchesInFlight:       int(l.positiveInt("GATEWAY_BATCHES_IN_FLIGHT")),
			TenantBatchesInFlight: int(l.positiveInt("GATEWAY_TENANT_BATCHES_IN_FLIGHT")),
			MaxDecodedBytes:       l.positiveInt("GATEWAY_MAX_DECODED_BYTES"),
			ConfirmTimeout:        l.duration("GATEWAY_CONFIRM_TIMEOUT"),
			PublishChannels:       int(l.positiveInt("GATEWAY_PUBLISH_CHANNELS")),
			KeyCacheTTL:           l.duration("GATEWAY_KEY_CACHE_TTL"),
		},
		AnalysisQueue: l.str("AMQP_ANALYSIS_QUEUE"),
		Worker: Worker{
			HealthAddr:          l.str("WORKER_HEALTH_ADDR"),
			Prefetch:            int(l.positiveInt("WORKER_PREFETCH")),
			EagerStarts:         int(l.nonNegativeInt("WORKER_EAGER_STARTS")),
			DeliveryRetryFor:    l.duration("WORKER_DELIVERY_RETRY_FOR"),
			StandInAccessKey:    l.str("S3_STANDIN_ACCESS_KEY"),
			StandInSecretKey:    l.str("S3_STANDIN_SECRET_KEY"),
			RecordingWaitWindow: l.duration("RECORDING_WAIT_WINDOW"),
			ReconcileWindow:     l.duration("RECONCILE_WINDOW"),
			ReconcileDelay:      l.duration("RECONCILE_DELAY"),
			InlineCopyMaxBytes:  l.nonNegativeInt("WORKER_INLINE_COPY_MAX_BYTES"),
			ConnectRate:         l.positiveFloat("CONNECT_API_RATE"),
			ConnectBurst:        int(l.positiveInt("CONNECT_API_BURST")),
			AdminAddr:           l.str("WORKER_ADMIN_ADDR"),
			AdminToken:          l.str("WORKER_ADMIN_TOKEN"),
			StuckAfter:          l.duration("CALLS_STUCK_AFTER"),
			StuckAttempts:       int(l.positiveInt("CALLS_STUCK_ATTEMPTS")),
		},
		MinIO: MinIO{
			Endpoint:  l.str("MINIO_ENDPOINT"),
			AccessKey: l.str("MINIO_ACCESS_KEY"),
			SecretKey: l.str("MINIO_SECRET_KEY"),
			UseSSL:    l.boolean("MINIO_USE_SSL"),
			Bucket:    l.str("MINIO_BUCKET"),
		},
	}
	if cfg.Worker.AdminToken == "off" {
		cfg.Worker.AdminToken = ""
	}
	if cfg.Worker.AdminToken == defaultAdminToken && !isLoopback(cfg.Worker.AdminAddr) {
		l.fail("WORKER_ADMIN_TOKEN", "(the default)", "set a token of your own: WORKER_ADMIN_ADDR "+cfg.Worker.AdminAddr+" is not a loopback address")
	}
	if (cfg.Gateway.TLSCertFile == "") != (cfg.Gateway.TLSKeyFile == "") {
		l.fail("GATEWAY_TLS_KEY_FILE", cfg.Gateway.TLSKeyFile, "set GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE together, or neither")
	}
	for old, now := range renamed {
		if v := l.getenv(old); v != "" {
			l.fail(old, v, "renamed: set "+now+" instead")
		}
	}
	switch cfg.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		l.fail("LOG_LEVEL", cfg.LogLevel, "want debug, info, warn or error")
	}
	if err := errors.Join(l.errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// loader reads variables, falling back to the table's defaults, and collects
// every parse error so that Load can report them together.
type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) str(name string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	for _, v := range vars {
		if v.Name == name {
			return v.Default
		}
	}
	// Reaching here is a programming error: every name read must be declared.
	panic("config: undeclared variable " + name)
}

func (l *loader) fail(name, value, why string) {
	l.errs = append(l.errs, fmt.Errorf("%s=%q: %s", name, value, why))
}

func (l *loader) positiveInt(name string) int64 {
	s := l.str(name)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		l.fail(name, s, "want a positive whole number")
	}
	return n
}

func (l *loader) nonNegativeInt(name string) int64 {
	s := l.str(name)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		l.fail(name, s, "want a whole number, 0 or more")
	}
	return n
}

func (l *loader) positiveFloat(name string) float64 {
	s := l.str(name)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		l.fail(name, s, "want a positive number")
	}
	return f
}

func (l *loader) duration(name string) time.Duration {
	s := l.str(name)
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		l.fail(name, s, "want a positive duration such as 30s or 5m")
	}
	return d
}

func (l *loader) boolean(name string) bool {
	s := l.str(name)
	b, err := strconv.ParseBool(s)
	if err != nil {
		l.fail(name, s, "want true or false")
	}
	return b
}

const defaultAdminToken = "local-admin-token"

// isLoopback reports whether a listen address only accepts local clients.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
