package httpserver

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// certReloader serves a certificate from files and reads them again when
// they change, so that a renewed certificate (cert-manager, certbot) is
// served without a restart.
type certReloader struct {
	certFile, keyFile string

	// every is how often a handshake looks at the files: recheckEvery.
	every time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

// recheckEvery bounds how often a handshake looks at the files.
const recheckEvery = 10 * time.Second

// TLSConfig returns a server TLS configuration that serves the certificate
// and key in the PEM files certFile and keyFile, read again whenever the
// certificate file changes. It fails at once when they cannot be loaded.
// TLS 1.2 is the oldest version offered, as Firehose supports.
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, every: recheckEvery}
	if _, err := r.load(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}, nil
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) < r.every {
		return r.cert, nil
	}
	r.checked = time.Now()
	st, err := os.Stat(r.certFile)
	if err != nil || st.ModTime().Equal(r.modTime) {
		return r.cert, nil // keep serving what was loaded
	}
	if cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile); err == nil {
		r.cert, r.modTime = &cert, st.ModTime()
	}
	return r.cert, nil
}

func (r *certReloader) load() (*tls.Certificate, error) {
	st, err := os.Stat(r.certFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.modTime, r.checked = &cert, st.ModTime(), time.Now()
	return r.cert, nil
}
