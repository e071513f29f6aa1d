package httpserver

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/testkit/testcert"
)

func TestCertReloader(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	testcert.Write(t, certFile, keyFile, "first")
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	served := func() string {
		c, err := r.get(&tls.ClientHelloInfo{})
		if err != nil || c.Leaf == nil {
			t.Fatalf("certificate %v, %v", c, err)
		}
		return c.Leaf.Subject.CommonName
	}

	t.Run("a renewed certificate is served once its file changes", func(t *testing.T) {
		if cn := served(); cn != "first" {
			t.Fatalf("serving %q", cn)
		}
		testcert.Write(t, certFile, keyFile, "renewed")
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(certFile, later, later); err != nil {
			t.Fatal(err)
		}
		if cn := served(); cn != "renewed" {
			t.Fatalf("serving %q after the renewal, want renewed", cn)
		}
	})

	t.Run("a broken renewal keeps the certificate that works", func(t *testing.T) {
		if err := os.WriteFile(certFile, []byte("not a certificate"), 0o644); err != nil {
			t.Fatal(err)
		}
		even := time.Now().Add(2 * time.Minute)
		_ = os.Chtimes(certFile, even, even)
		if cn := served(); cn != "renewed" {
			t.Fatalf("serving %q, want the last good one", cn)
		}
	})

	t.Run("files that cannot be loaded refuse to start", func(t *testing.T) {
		if _, err := TLSConfig(certFile, keyFile); err == nil {
			t.Fatal("a broken certificate was accepted")
		}
		if _, err := TLSConfig(filepath.Join(dir, "missing.crt"), keyFile); err == nil {
			t.Fatal("a missing certificate was accepted")
		}
	})
}
