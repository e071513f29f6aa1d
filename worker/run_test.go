package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestRun(t *testing.T) {
	_, dsn := testenv.Database(t)
	health := testenv.FreeAddr(t)
	getenv := testenv.Getenv(map[string]string{
		"DATABASE_URL":        dsn,
		"AMQP_CTR_QUEUE":      testenv.Queues(t),
		"WORKER_HEALTH_ADDR":  health,
		"WORKER_ADMIN_ADDR":   testenv.FreeAddr(t),
		"TEMPORAL_TASK_QUEUE": "test-" + testenv.Suffix(),
	})
	stop := testenv.StartProgram(t, func(ctx context.Context) error { return run(ctx, getenv, io.Discard) })

	t.Run("it becomes ready once Postgres, RabbitMQ, Temporal and MinIO answer", func(t *testing.T) {
		body := testenv.WaitHTTP(t, "http://"+health+"/readyz", http.StatusOK)
		for _, dep := range []string{"postgres", "rabbitmq", "temporal", "minio"} {
			if !strings.Contains(body, `"`+dep+`":"ok"`) {
				t.Errorf("readyz does not report %s ok: %s", dep, body)
			}
		}
		testenv.WaitHTTP(t, "http://"+health+"/healthz", http.StatusOK)
		testenv.WaitHTTP(t, "http://"+health+"/metrics", http.StatusOK)
	})

	t.Run("it stops cleanly when told to", func(t *testing.T) {
		if err := stop(); err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
	})
}
