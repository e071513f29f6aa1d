// Package testenv gives tests isolated resources on the real local stack
// (`make stack`): a fresh, migrated Postgres database per test and unique
// RabbitMQ queue names. A missing service fails the test with a hint; it is
// never skipped.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/store"
)

// Config returns the configuration the programs would load from this
// process's environment: the local stack's defaults unless overridden.
func Config(tb testing.TB) config.Config {
	tb.Helper()
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		tb.Fatalf("load config: %v", err)
	}
	return cfg
}

// Suffix returns a short random string for names that must not collide
// between tests or runs.
func Suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Database creates an empty database with every migration applied, and drops
// it when the test ends. It returns the pool and the database's URL.
func Database(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	base := Config(tb).DatabaseURL
	pcfg, err := pgx.ParseConfig(base)
	if err != nil {
		tb.Fatalf("parse DATABASE_URL: %v", err)
	}
	name := "ci_test_" + Suffix()
	dsn := strings.Replace(base, "/"+pcfg.Database, "/"+name, 1)
	if err := store.EnsureDatabase(ctx, dsn); err != nil {
		tb.Fatalf("create test database (is the stack up? run `make stack`): %v", err)
	}
	pool, err := store.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	if _, err := store.Migrate(ctx, pool); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	tb.Cleanup(func() {
		pool.Close()
		dropDatabase(tb, base, name)
	})
	return pool, dsn
}

func dropDatabase(tb testing.TB, base, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		tb.Errorf("parse DATABASE_URL: %v", err)
		return
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		tb.Errorf("drop test database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		tb.Errorf("drop test database %s: %v", name, err)
	}
}
