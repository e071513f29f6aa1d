package main

import "testing"

func TestInFlight(t *testing.T) {
	t.Run("a tenant at its bound is refused while others still get slots", func(t *testing.T) {
		l := newInFlight(10, 2)
		r1, _ := l.acquire("noisy")
		_, _ = l.acquire("noisy")
		if _, busy := l.acquire("noisy"); busy != busyTenant {
			t.Fatalf("third noisy batch: busy = %q, want %q", busy, busyTenant)
		}
		if _, busy := l.acquire("quiet"); busy != "" {
			t.Fatalf("quiet tenant refused: %q", busy)
		}
		r1()
		r1() // a second release changes nothing
		if _, busy := l.acquire("noisy"); busy != "" {
			t.Fatalf("after a release: busy = %q", busy)
		}
		if _, busy := l.acquire("noisy"); busy != busyTenant {
			t.Fatalf("a double release freed two slots: busy = %q", busy)
		}
	})
	t.Run("the gateway's own bound holds across tenants", func(t *testing.T) {
		l := newInFlight(2, 2)
		_, _ = l.acquire("a")
		_, _ = l.acquire("b")
		if _, busy := l.acquire("c"); busy != busyGateway {
			t.Fatalf("busy = %q, want %q", busy, busyGateway)
		}
	})
}
