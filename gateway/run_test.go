package main

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/testkit/testcert"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestRun(t *testing.T) {
	_, dsn := testenv.Database(t)
	public, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
	getenv := testenv.Getenv(map[string]string{
		"DATABASE_URL":        dsn,
		"AMQP_CTR_QUEUE":      testenv.Queues(t),
		"GATEWAY_LISTEN_ADDR": public,
		"GATEWAY_ADMIN_ADDR":  admin,
	})
	stop := testenv.StartProgram(t, func(ctx context.Context) error { return run(ctx, getenv, io.Discard) })

	t.Run("it becomes ready once Postgres and RabbitMQ answer", func(t *testing.T) {
		body := testenv.WaitHTTP(t, "http://"+admin+"/readyz", http.StatusOK)
		if !strings.Contains(body, `"postgres":"ok"`) || !strings.Contains(body, `"rabbitmq":"ok"`) {
			t.Fatalf("readyz = %s", body)
		}
		testenv.WaitHTTP(t, "http://"+public+"/healthz", http.StatusOK)
	})

	t.Run("the Firehose endpoint is on the public listener only", func(t *testing.T) {
		resp, err := http.Post("http://"+admin+"/firehose", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("admin /firehose = %d, want 404", resp.StatusCode)
		}
		testenv.WaitHTTP(t, "http://"+admin+"/metrics", http.StatusOK)
	})

	t.Run("it stops cleanly when told to", func(t *testing.T) {
		if err := stop(); err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
		if _, err := http.Get("http://" + public + "/healthz"); err == nil {
			t.Fatal("the listener still answers after stop")
		}
	})
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Run("a malformed variable stops it before it listens", func(t *testing.T) {
		err := run(t.Context(), testenv.Getenv(map[string]string{"GATEWAY_CONFIRM_TIMEOUT": "never"}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "GATEWAY_CONFIRM_TIMEOUT") {
			t.Fatalf("err = %v, want one naming GATEWAY_CONFIRM_TIMEOUT", err)
		}
	})
}

func TestRunServesHTTPS(t *testing.T) {
	_, dsn := testenv.Database(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	trusted := testcert.Write(t, certFile, keyFile, "gateway")
	public, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
	getenv := testenv.Getenv(map[string]string{
		"DATABASE_URL": dsn, "AMQP_CTR_QUEUE": testenv.Queues(t),
		"GATEWAY_LISTEN_ADDR": public, "GATEWAY_ADMIN_ADDR": admin,
		"GATEWAY_TLS_CERT_FILE": certFile, "GATEWAY_TLS_KEY_FILE": keyFile,
	})
	testenv.StartProgram(t, func(ctx context.Context) error { return run(ctx, getenv, io.Discard) })
	testenv.WaitHTTP(t, "http://"+admin+"/readyz", http.StatusOK)

	t.Run("the Firehose listener speaks HTTPS with the configured certificate", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trusted}}}
		resp, err := client.Get("https://" + public + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("status %d over %+v", resp.StatusCode, resp.TLS)
		}
	})

	t.Run("plain HTTP is not served on it", func(t *testing.T) {
		resp, err := http.Get("http://" + public + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("plain HTTP answered 200")
			}
		}
	})
}

func TestRunRefusesHalfATLSConfig(t *testing.T) {
	err := run(t.Context(), testenv.Getenv(map[string]string{"GATEWAY_TLS_CERT_FILE": "/etc/ssl/x.pem"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "GATEWAY_TLS_KEY_FILE") {
		t.Fatalf("err = %v, want one naming GATEWAY_TLS_KEY_FILE", err)
	}
}
