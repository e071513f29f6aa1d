package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/health"
	"github.com/connectingest/connect-ingest/internal/httpserver"
	"github.com/connectingest/connect-ingest/internal/logging"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/temporalx"
)

// run starts the worker and serves until ctx ends. The database is created
// and migrated before anything else, so the schema is always the one this
// build expects.
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

	conn := queue.Dial(cfg.AMQPURL, queue.Topology{CTRQueue: cfg.CTRQueue}, log)
	defer conn.Close()

	// A lazy client connects on first use, so the worker starts while
	// Temporal is still coming up and reports itself not ready meanwhile.
	tc, err := client.NewLazyClient(temporalx.Options(cfg, log))
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

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
	))
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Addr: cfg.Worker.HealthAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	log.Info("worker starting", "health_addr", srv.Addr, "task_queue", cfg.TaskQueue)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserver.Serve(gctx, srv) })
	if err := g.Wait(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	log.Info("worker stopped")
	return nil
}
