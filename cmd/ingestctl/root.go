package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/logging"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// app holds what every command shares: the configuration, the output
// streams, and the database pool, opened on first use.
type app struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	cfg    config.Config
	log    *slog.Logger
	pool   *pgxpool.Pool
	tc     client.Client
	// entry is the audit entry of the audited act running, if any.
	entry *store.AuditEntry
}

// run executes one ingestctl command line. Tests call it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// Logs come from background goroutines too (the RabbitMQ connection of
	// replay) while progress bars draw: one writer at a time.
	stderr = &lockedWriter{w: stderr}
	a := &app{getenv: getenv, stdin: os.Stdin, stdout: stdout, stderr: stderr}
	defer a.close()
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// rootCmd is the command tree, every privileged act in it audited.
func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "ingestctl",
		Short:         "Operate connect-ingest: setup, tenants, agents, calls, quarantined and dead-lettered records",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			cfg, err := config.Load(a.getenv)
			if err != nil {
				return err
			}
			a.cfg = cfg
			a.log = logging.New(a.stderr, cfg.LogLevel)
			return nil
		},
	}
	root.AddCommand(a.migrateCmd(), a.setupCmd(), a.tenantsCmd(), a.agentsCmd(), a.replayCmd(), a.rejectedCmd(), a.callsCmd(), a.deadlettersCmd(),
		a.operatorsCmd(), a.auditCmd(), a.reconcileCmd(), a.backfillCmd())
	a.auditCommands(root)
	return root
}

// db returns the pool, creating the database where it is missing.
func (a *app) db(ctx context.Context) (*pgxpool.Pool, error) {
	if a.pool != nil {
		return a.pool, nil
	}
	if err := store.EnsureDatabase(ctx, a.cfg.DatabaseURL); err != nil {
		return nil, err
	}
	pool, err := store.Open(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.pool = pool
	return pool, nil
}

// tenant reads one tenant, and returns the tenants store for more.
func (a *app) tenant(ctx context.Context, id string) (tenant.Tenant, *store.Tenants, error) {
	pool, err := a.db(ctx)
	if err != nil {
		return tenant.Tenant{}, nil, err
	}
	tenants := store.NewTenants(pool)
	t, err := tenants.Get(ctx, id)
	return t, tenants, err
}

// temporal returns the Temporal client, connecting on first use.
func (a *app) temporal(ctx context.Context) (client.Client, error) {
	if a.tc != nil {
		return a.tc, nil
	}
	c, err := temporalx.Dial(ctx, a.cfg, a.log)
	if err != nil {
		return nil, err
	}
	a.tc = c
	return c, nil
}

func (a *app) close() {
	if a.tc != nil {
		a.tc.Close()
	}
	if a.pool != nil {
		a.pool.Close()
	}
}

// printJSON writes v as indented JSON, the stable machine-readable form of
// every listing.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
