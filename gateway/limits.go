package main

import "sync"

// inFlight bounds the batches the gateway works on at once: in all, so that
// the bodies it holds fit its memory (each up to GATEWAY_MAX_DECODED_BYTES),
// and per tenant, so that one tenant's burst never takes every slot. A batch
// past either bound is refused at once with 503, which Firehose retries;
// other tenants are untouched.
type inFlight struct {
	mu        sync.Mutex
	total     int
	perTenant map[string]int
	maxTotal  int
	maxTenant int
}

func newInFlight(maxTotal, maxTenant int) *inFlight {
	return &inFlight{perTenant: map[string]int{}, maxTotal: maxTotal, maxTenant: maxTenant}
}

// Why acquire refused a batch.
const (
	busyTenant  = "tenant"
	busyGateway = "gateway"
)

// acquire takes a slot for one of tenantID's batches. It returns the
// release function, or which bound refused it.
func (l *inFlight) acquire(tenantID string) (release func(), busy string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.perTenant[tenantID] >= l.maxTenant:
		return nil, busyTenant
	case l.total >= l.maxTotal:
		return nil, busyGateway
	}
	l.total++
	l.perTenant[tenantID]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.perTenant[tenantID]--; l.perTenant[tenantID] == 0 {
				delete(l.perTenant, tenantID)
			}
		})
	}, ""
}

// count is how many of tenantID's batches are in flight.
func (l *inFlight) count(tenantID string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.perTenant[tenantID]
}
