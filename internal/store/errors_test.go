package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestIsDataError(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	refused := map[string]string{
		"a NUL escape in jsonb":       `SELECT '{"a":"\u0000"}'::jsonb`,
		"a lone surrogate in jsonb":   `SELECT '{"a":"\ud800"}'::jsonb`,
		"a number beyond numeric":     `SELECT '1e1000000'::numeric`,
		"a check constraint violated": `INSERT INTO tenants (id, name, instance_arn) VALUES ('Bad ID', 'x', 'y')`,
	}
	for name, sql := range refused {
		t.Run(name+" is a data error, wrapped or not", func(t *testing.T) {
			_, err := pool.Exec(ctx, sql)
			if err == nil {
				t.Fatal("Postgres accepted it")
			}
			if !store.IsDataError(fmt.Errorf("context: %w", err)) {
				t.Fatalf("not a data error: %v", err)
			}
		})
	}
	t.Run("a lost connection or a cancelled query is not", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := pool.Exec(cctx, `SELECT 1`)
		if err == nil || store.IsDataError(err) {
			t.Fatalf("err = %v", err)
		}
		if store.IsDataError(errors.New("dial tcp: connection refused")) {
			t.Fatal("a plain error is a data error")
		}
	})
}
