package main

import (
	"context"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/httpserver"
	"github.com/connectingest/connect-ingest/internal/logging"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
)

// run starts the gateway and serves until ctx ends. Dependencies are reached
// lazily: the gateway starts even while Postgres or RabbitMQ are down, reports
// not ready, and answers Firehose 503 until they are back.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := logging.New(stdout, cfg.LogLevel).With("program", "gateway")

	pool, err := store.OpenLazy(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	conn := queue.Dial(cfg.AMQPURL, queue.Topology{CTRQueue: cfg.CTRQueue}, log)
	defer conn.Close()
	gw := newGateway(cfg, log, pool, conn)
	defer gw.Close()

	public := &http.Server{
		Addr:              cfg.Gateway.ListenAddr,
		Handler:           gw.public,
		ReadHeaderTimeout: 10 * time.Second,
		// A 64 MiB body over a slow link, then up to ConfirmTimeout of
		// publishing, all inside Firehose's own 3-minute limit.
		ReadTimeout:    2 * time.Minute,
		WriteTimeout:   2*time.Minute + cfg.Gateway.ConfirmTimeout,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 1 << 20,
	}
	if cfg.Gateway.TLSCertFile != "" {
		if public.TLSConfig, err = httpserver.TLSConfig(cfg.Gateway.TLSCertFile, cfg.Gateway.TLSKeyFile); err != nil {
			return err
		}
	}
	admin := &http.Server{
		Addr:              cfg.Gateway.AdminAddr,
		Handler:           gw.admin,
		ReadHeaderTimeout: 10 * time.Second,
	}

	log.Info("gateway starting", "firehose_addr", public.Addr, "tls", public.TLSConfig != nil, "admin_addr", admin.Addr, "queue", cfg.CTRQueue)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserver.Serve(gctx, public) })
	g.Go(func() error { return httpserver.Serve(gctx, admin) })
	// main names the program once when it prints the error.
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("gateway stopped")
	return nil
}
