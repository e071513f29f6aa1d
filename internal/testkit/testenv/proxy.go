package testenv

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards TCP connections from a loopback address to a target. Cut
// drops every connection and refuses new ones, as an unreachable server
// would; Restore accepts again on the same address. It lets a test take a
// service away from one client without touching the service itself, which
// other tests share.
type Proxy struct {
	tb     testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	// rate bounds the bytes per second from the target to the client;
	// zero is unlimited.
	rate atomic.Int64
}

// Throttle bounds what the target sends through the proxy to bytesPerSecond
// per connection, as a slow link would; zero lifts the bound.
func (p *Proxy) Throttle(bytesPerSecond int64) { p.rate.Store(bytesPerSecond) }

// NewProxy starts a proxy to target and closes it when the test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p := &Proxy{tb: tb, target: target, conns: map[net.Conn]struct{}{}}
	p.listen("127.0.0.1:0")
	tb.Cleanup(p.Cut)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.tb.Fatalf("proxy listen on %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns[in], p.conns[out] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(in, &throttled{r: out, rate: &p.rate})
		go p.pipe(out, in)
	}
}

func (p *Proxy) pipe(dst net.Conn, src io.ReadCloser) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// throttled reads at most rate bytes per second, in chunks of a tenth of it.
type throttled struct {
	r    net.Conn
	rate *atomic.Int64
}

func (t *throttled) Read(b []byte) (int, error) {
	rate := t.rate.Load()
	if rate <= 0 {
		return t.r.Read(b)
	}
	chunk := max(rate/10, 1)
	if int64(len(b)) > chunk {
		b = b[:chunk]
	}
	n, err := t.r.Read(b)
	time.Sleep(time.Duration(int64(n) * int64(time.Second) / rate))
	return n, err
}

func (t *throttled) Close() error { return t.r.Close() }

// Cut closes the listener and every proxied connection.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore listens again on the same address.
func (p *Proxy) Restore() {
	p.listen(p.addr)
}
