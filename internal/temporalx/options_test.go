package temporalx_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/temporalx"
	"github.com/connectingest/connect-ingest/internal/testkit/testcert"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestOptions(t *testing.T) {
	cfg := config.Config{TemporalAddr: "127.0.0.1:7233", Namespace: "default"}

	t.Run("with no client configuration, TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (or their defaults) apply", func(t *testing.T) {
		t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "none.toml"))
		opts, err := temporalx.Options(cfg, quiet)
		if err != nil || opts.HostPort != "127.0.0.1:7233" || opts.Namespace != "default" || opts.Credentials != nil ||
			opts.ConnectionOptions.TLS != nil {
			t.Fatalf("options %+v, %v", opts, err)
		}
	})

	t.Run("Temporal Cloud's API key and namespace come from the SDK's standard variables", func(t *testing.T) {
		t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "none.toml"))
		t.Setenv("TEMPORAL_ADDRESS", "acme.a1b2c.tmprl.cloud:7233")
		t.Setenv("TEMPORAL_NAMESPACE", "acme.a1b2c")
		t.Setenv("TEMPORAL_API_KEY", "secret-api-key")
		opts, err := temporalx.Options(cfg, quiet)
		if err != nil || opts.HostPort != "acme.a1b2c.tmprl.cloud:7233" || opts.Namespace != "acme.a1b2c" || opts.Credentials == nil ||
			opts.ConnectionOptions.TLS == nil {
			t.Fatalf("options %+v, %v: want the API key over TLS", opts, err)
		}
	})

	t.Run("mTLS certificates from a TOML profile", func(t *testing.T) {
		dir := t.TempDir()
		cert, key := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
		testcert.Write(t, cert, key, "worker")
		toml := "[profile.prod]\naddress = \"temporal.internal:7233\"\nnamespace = \"ingest\"\n[profile.prod.tls]\n" +
			"client_cert_path = \"" + cert + "\"\nclient_key_path = \"" + key + "\"\n"
		file := filepath.Join(dir, "temporal.toml")
		if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TEMPORAL_CONFIG_FILE", file)
		t.Setenv("TEMPORAL_PROFILE", "prod")
		opts, err := temporalx.Options(cfg, quiet)
		if err != nil || opts.HostPort != "temporal.internal:7233" || opts.Namespace != "ingest" ||
			opts.ConnectionOptions.TLS == nil || len(opts.ConnectionOptions.TLS.Certificates) != 1 {
			t.Fatalf("options %+v, %v: want the profile's address, namespace and client certificate", opts, err)
		}
	})

	t.Run("a broken client configuration is an error, not a silent default", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "temporal.toml")
		if err := os.WriteFile(file, []byte("[profile.default\naddress ="), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TEMPORAL_CONFIG_FILE", file)
		if _, err := temporalx.Options(cfg, quiet); err == nil {
			t.Fatal("a malformed TOML file was accepted")
		}
	})
}
