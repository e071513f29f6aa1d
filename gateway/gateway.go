package main

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/health"
	"github.com/connectingest/connect-ingest/internal/ingest"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
)

// gateway is the wired application: its two routers and what they share.
type gateway struct {
	public    *gin.Engine
	admin     *gin.Engine
	metrics   *gatewayMetrics
	inFlight  *inFlight
	publisher *queue.Publisher
}

// newGateway wires the handlers to their dependencies. The caller owns pool
// and conn; Close releases what newGateway made.
func newGateway(cfg config.Config, log *slog.Logger, pool *pgxpool.Pool, conn *queue.Conn) *gateway {
	publisher := queue.NewPublisher(conn, cfg.Gateway.PublishChannels)
	m := newMetrics()
	checks := []health.Check{
		{Name: "postgres", Probe: pool.Ping},
		{Name: "rabbitmq", Probe: func(context.Context) error {
			if !conn.Ready() {
				return queue.ErrUnavailable
			}
			return nil
		}},
	}
	limits := newInFlight(cfg.Gateway.BatchesInFlight, cfg.Gateway.TenantBatchesInFlight)
	fh := &firehoseHandler{
		auth:     newAuthenticator(store.NewTenants(pool), cfg.Gateway.KeyCacheTTL),
		inFlight: limits,
		ingester: &ingest.Ingester{
			Publisher:  publisher,
			Quarantine: store.NewQuarantine(pool).WithQuota(cfg.QuarantineQuota),
			Queue:      cfg.CTRQueue,
			Agents:     store.NewAgents(pool),
		},
		metrics:         m,
		log:             log,
		maxBodyBytes:    cfg.Gateway.MaxBodyBytes,
		maxDecodedBytes: cfg.Gateway.MaxDecodedBytes,
		confirmTimeout:  cfg.Gateway.ConfirmTimeout,
	}
	return &gateway{
		public:    newRouter(fh, health.ReadySummary(checks...)),
		admin:     newAdminRouter(m, health.Ready(checks...)),
		metrics:   m,
		inFlight:  limits,
		publisher: publisher,
	}
}

// Close closes the publishing channels.
func (g *gateway) Close() {
	g.publisher.Close()
}
