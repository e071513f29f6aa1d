package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// errUnauthorized means the access key is missing, unknown or revoked.
var errUnauthorized = errors.New("unauthorized")

// keyLookup finds the tenant of a live access key by the key's hash.
type keyLookup interface {
	TenantByKeyHash(ctx context.Context, hash []byte) (tenant.Tenant, []byte, error)
}

// authenticator maps Firehose access keys to tenants. Verified keys are
// trusted for ttl, which bounds how long a revoked key keeps working and
// keeps Postgres off the hot path of a busy stream.
type authenticator struct {
	lookup keyLookup
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cachedTenant
}

type cachedTenant struct {
	tenant  tenant.Tenant
	expires time.Time
}

func newAuthenticator(lookup keyLookup, ttl time.Duration) *authenticator {
	return &authenticator{lookup: lookup, ttl: ttl, now: time.Now, cache: map[[sha256.Size]byte]cachedTenant{}}
}

// authenticate returns the key's tenant, errUnauthorized, or a lookup error
// (the database is unreachable: the caller answers 503, not 401).
func (a *authenticator) authenticate(ctx context.Context, key string) (tenant.Tenant, error) {
	if key == "" || len(key) > accesskey.MaxLength {
		return tenant.Tenant{}, errUnauthorized
	}
	hash := [sha256.Size]byte(accesskey.Hash(key))
	now := a.now()

	a.mu.Lock()
	c, ok := a.cache[hash]
	a.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.tenant, nil
	}

	t, stored, err := a.lookup.TenantByKeyHash(ctx, hash[:])
	if errors.Is(err, store.ErrNotFound) {
		return tenant.Tenant{}, errUnauthorized
	}
	if err != nil {
		return tenant.Tenant{}, err
	}
	// The database matched on the hash; compare again in constant time so
	// that no path of ours branches early on key material.
	if subtle.ConstantTimeCompare(stored, hash[:]) != 1 {
		return tenant.Tenant{}, errUnauthorized
	}
	a.mu.Lock()
	a.cache[hash] = cachedTenant{tenant: t, expires: now.Add(a.ttl)}
	a.mu.Unlock()
	return t, nil
}
