package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/health"
	"github.com/connectingest/connect-ingest/internal/httpserver"
	"github.com/connectingest/connect-ingest/internal/ingest"
	"github.com/connectingest/connect-ingest/internal/logging"
	"github.com/connectingest/connect-ingest/internal/metrics"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/operations"
	"github.com/connectingest/connect-ingest/workflows"
)

// run starts the worker and serves until ctx ends: the database is created
// and migrated, the recording bucket ensured, then the Temporal worker and
// the CTR consumer run side by side with the health listener.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := logging.New(stdout, cfg.LogLevel).With("program", "worker")

	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if n, err := store.Migrate(ctx, pool); err != nil {
		return err
	} else if n > 0 {
		log.Info("migrations applied", "count", n)
	}

	mc, err := minio.New(cfg.MinIO.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.MinIO.AccessKey, cfg.MinIO.SecretKey, ""),
		Secure: cfg.MinIO.UseSSL,
	})
	if err != nil {
		return fmt.Errorf("minio client: %w", err)
	}
	if err := ensureBucket(ctx, mc, cfg.MinIO.Bucket, log); err != nil {
		return err
	}

	conn := queue.Dial(cfg.AMQPURL, queue.Topology{CTRQueue: cfg.CTRQueue, AnalysisQueue: cfg.AnalysisQueue}, log)
	defer conn.Close()
	publisher := queue.NewPublisher(conn, 4)
	defer publisher.Close()

	m := newWorkerMetrics()
	sdkMetrics, closeMetrics := metrics.NewTemporalHandler(m.registry, func(err error) {
		log.Error("temporal sdk metric not registered", "error", err)
	})
	defer closeMetrics.Close()
	tc, err := dialTemporal(ctx, cfg, log, sdkMetrics)
	if err != nil {
		return err
	}
	defer tc.Close()

	convs := store.NewConversations(pool)
	m.stuck.count = func(ctx context.Context) (map[string]int, error) { return convs.Stuck(ctx, cfg.Worker.StuckAfter) }
	versions := store.NewCTRVersions(pool)
	quarantine := store.NewQuarantine(pool).WithQuota(cfg.QuarantineQuota)
	tuner, err := newEagerTuner(cfg.Worker.EagerStarts)
	if err != nil {
		return err
	}
	w := worker.New(tc, cfg.TaskQueue, worker.Options{
		// Heartbeats carry cancellations to running activities: a copy an
		// operator cancels stops within seconds, not most of a minute.
		MaxHeartbeatThrottleInterval: 2 * time.Second,
		Tuner:                        tuner,
	})
	workflows.Register(w)
	acts := &activities.Activities{
		Tenants:         store.NewTenants(pool),
		Conversations:   convs,
		CTRVersions:     versions,
		Agents:          store.NewAgents(pool),
		Quarantine:      quarantine,
		Erasures:        store.NewErasures(pool),
		Reconciliations: store.NewReconciliations(pool),
		Ingester:        &ingest.Ingester{Publisher: publisher, Quarantine: quarantine, Queue: cfg.CTRQueue, Tombstones: store.NewErasures(pool)},
		ReconcileWindow: cfg.Worker.ReconcileWindow,
		ReconcileDelay:  cfg.Worker.ReconcileDelay,
		AWS: &awsx.Clients{
			StandInAccessKey: cfg.Worker.StandInAccessKey, StandInSecretKey: cfg.Worker.StandInSecretKey,
			ConnectRate: cfg.Worker.ConnectRate, ConnectBurst: cfg.Worker.ConnectBurst,
		},
		MinIO:           mc,
		Bucket:          cfg.MinIO.Bucket,
		Publisher:       publisher,
		AnalysisQueue:   cfg.AnalysisQueue,
		Temporal:        tc,
		Namespace:       cfg.Namespace,
		AMQP:            conn,
		DeadLetterQueue: queue.Topology{CTRQueue: cfg.CTRQueue}.DeadLetterName(),
		Metrics:         m.activities,
	}
	activities.Register(w, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start temporal worker: %w", err)
	}
	defer w.Stop()

	cons := &consumer{
		conn: conn, queue: cfg.CTRQueue, prefetch: cfg.Worker.Prefetch, temporal: tc, taskQueue: cfg.TaskQueue,
		waitWindow: cfg.Worker.RecordingWaitWindow, inlineCopyMaxBytes: cfg.Worker.InlineCopyMaxBytes, retryFor: cfg.Worker.DeliveryRetryFor, log: log, metrics: m,
		versions: versions, quarantine: quarantine,
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", health.Live)
	mux.Handle("GET /readyz", health.Ready(
		health.Check{Name: "postgres", Probe: pool.Ping},
		health.Check{Name: "rabbitmq", Probe: func(context.Context) error {
			if !conn.Ready() {
				return queue.ErrUnavailable
			}
			return nil
		}},
		health.Check{Name: "temporal", Probe: func(ctx context.Context) error {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
		health.Check{Name: "minio", Probe: func(ctx context.Context) error {
			_, err := mc.BucketExists(ctx, cfg.MinIO.Bucket)
			return err
		}},
	))
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Addr: cfg.Worker.HealthAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	admin := &adminAPI{
		svc:       operations.NewService(tc, convs, versions, store.NewErasures(pool), cfg),
		operators: store.NewOperators(pool), audit: store.NewAudit(pool), quarantine: store.NewQuarantine(pool),
		bootstrapToken: cfg.Worker.AdminToken, refused: m.adminRefused, log: log,
	}
	adminSrv := &http.Server{Addr: cfg.Worker.AdminAddr, Handler: admin.handler(), ReadHeaderTimeout: 10 * time.Second}

	log.Info("worker starting", "health_addr", srv.Addr, "admin_addr", adminSrv.Addr, "task_queue", cfg.TaskQueue, "queue", cfg.CTRQueue)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserver.Serve(gctx, srv) })
	g.Go(func() error { return httpserver.Serve(gctx, adminSrv) })
	g.Go(func() error { return cons.run(gctx) })
	// main names the program once when it prints the error.
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("worker stopped")
	return nil
}

// dialTemporal connects to Temporal, retrying while it is still starting, so
// that the worker and Temporal can start in any order.
func dialTemporal(ctx context.Context, cfg config.Config, log *slog.Logger, mh client.MetricsHandler) (client.Client, error) {
	// A broken client configuration is refused at once, not retried.
	opts, err := temporalx.Options(cfg, log)
	if err != nil {
		return nil, err
	}
	opts.MetricsHandler = mh
	var c client.Client
	err = untilReady(ctx, log, "temporal", func() error {
		var err error
		c, err = client.DialContext(ctx, opts)
		if err != nil {
			return fmt.Errorf("connect to temporal at %s: %w", opts.HostPort, err)
		}
		return nil
	})
	return c, err
}

// ensureBucket creates the recording bucket where it is missing, retrying
// while MinIO is still starting.
func ensureBucket(ctx context.Context, mc *minio.Client, bucket string, log *slog.Logger) error {
	return untilReady(ctx, log, "minio", func() error {
		exists, err := mc.BucketExists(ctx, bucket)
		if err != nil || exists {
			return err
		}
		err = mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{})
		if minio.ToErrorResponse(err).Code == "BucketAlreadyOwnedByYou" {
			return nil
		}
		return err
	})
}

// untilReady calls try until it succeeds or ctx ends, backing off from half
// a second to ten, and returns the last error if ctx ends first.
func untilReady(ctx context.Context, log *slog.Logger, what string, try func() error) error {
	backoff := 500 * time.Millisecond
	for {
		err := try()
		if err == nil {
			return nil
		}
		log.Warn(what+" not ready yet", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}
