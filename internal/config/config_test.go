package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	t.Run("with nothing set every default points at the local stack", func(t *testing.T) {
		cfg, err := config.Load(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.TemporalAddr != "127.0.0.1:7233" || cfg.Gateway.ListenAddr != ":8080" || cfg.Gateway.AdminAddr != "127.0.0.1:8081" || cfg.Worker.HealthAddr != "127.0.0.1:9091" {
			t.Fatalf("listeners: %+v", cfg)
		}
		if !strings.Contains(cfg.DatabaseURL, "127.0.0.1:5432/connect_ingest") || cfg.Gateway.MaxBodyBytes != 64<<20 || cfg.Gateway.ConfirmTimeout != 30*time.Second {
			t.Fatalf("defaults: %+v", cfg)
		}
	})

	t.Run("a set variable overrides its default", func(t *testing.T) {
		cfg, err := config.Load(env(map[string]string{"GATEWAY_CONFIRM_TIMEOUT": "5s", "MINIO_USE_SSL": "true", "TEMPORAL_UI_URL": "http://ui/"}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Gateway.ConfirmTimeout != 5*time.Second || !cfg.MinIO.UseSSL || cfg.TemporalUI != "http://ui" {
			t.Fatalf("got %+v", cfg)
		}
	})

	t.Run("a retired variable is refused with the name that replaced it, never silently ignored", func(t *testing.T) {
		_, err := config.Load(env(map[string]string{"ADMIN_ADDR": "0.0.0.0:9092", "ADMIN_TOKEN": "secret"}))
		if err == nil {
			t.Fatal("want an error")
		}
		for _, want := range []string{"ADMIN_ADDR", "set WORKER_ADMIN_ADDR instead", "ADMIN_TOKEN", "set WORKER_ADMIN_TOKEN instead"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not say %q: %v", want, err)
			}
		}
		cfg, err := config.Load(env(map[string]string{"WORKER_ADMIN_ADDR": "127.0.0.1:9999", "WORKER_ADMIN_TOKEN": "secret"}))
		if err != nil || cfg.Worker.AdminAddr != "127.0.0.1:9999" || cfg.Worker.AdminToken != "secret" {
			t.Fatalf("the new names: %+v, %v", cfg.Worker, err)
		}
	})

	t.Run("every malformed variable is reported at once", func(t *testing.T) {
		_, err := config.Load(env(map[string]string{
			"GATEWAY_MAX_BODY_BYTES":   "-1",
			"GATEWAY_CONFIRM_TIMEOUT":  "soon",
			"MINIO_USE_SSL":            "maybe",
			"LOG_LEVEL":                "loud",
			"GATEWAY_PUBLISH_CHANNELS": "0",
		}))
		if err == nil {
			t.Fatal("want an error")
		}
		for _, name := range []string{"GATEWAY_MAX_BODY_BYTES", "GATEWAY_CONFIRM_TIMEOUT", "MINIO_USE_SSL", "LOG_LEVEL", "GATEWAY_PUBLISH_CHANNELS"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		}
	})
}
