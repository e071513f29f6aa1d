package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/agents"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func newTenant(id string) tenant.Tenant {
	return tenant.Tenant{
		ID:               id,
		Name:             "Acme " + id,
		InstanceARN:      "arn:aws:connect:eu-west-2:111122223333:instance/" + id,
		RecordingBuckets: []string{"acme-recordings"},
	}
}

func TestTenants(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	tenants := store.NewTenants(pool)

	key := accesskey.Generate()
	ak, err := tenants.Create(ctx, newTenant("acme"), key)
	if err != nil {
		t.Fatalf("create: %v", err)
	}

	t.Run("a created tenant reads back as stored", func(t *testing.T) {
		got, err := tenants.Get(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		want := newTenant("acme")
		if got.Name != want.Name || got.InstanceARN != want.InstanceARN || len(got.RecordingBuckets) != 1 || got.RecordingBuckets[0] != "acme-recordings" {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})

	t.Run("agent sync settings default to every user, every 15 minutes, enabled, and round-trip", func(t *testing.T) {
		got, err := tenants.Get(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if got.SyncInterval != tenant.DefaultSyncInterval || got.SyncDisabled || len(got.AgentFilter.RoutingProfileIDs) != 0 {
			t.Fatalf("defaults = %v %v %+v", got.SyncInterval, got.SyncDisabled, got.AgentFilter)
		}
		custom := newTenant("filtered")
		custom.AgentFilter = agents.Filter{RoutingProfileIDs: []string{"rp-1"}, Tag: "team=blue"}
		custom.SyncInterval, custom.SyncDisabled = 5*time.Minute, true
		if _, err := tenants.Create(ctx, custom, accesskey.Generate()); err != nil {
			t.Fatal(err)
		}
		back, err := tenants.Get(ctx, "filtered")
		if err != nil {
			t.Fatal(err)
		}
		if back.SyncInterval != 5*time.Minute || !back.SyncDisabled || back.AgentFilter.Tag != "team=blue" || back.AgentFilter.RoutingProfileIDs[0] != "rp-1" {
			t.Fatalf("round trip = %+v", back)
		}
	})

	t.Run("creating the same tenant twice is ErrExists", func(t *testing.T) {
		_, err := tenants.Create(ctx, newTenant("acme"), accesskey.Generate())
		if !errors.Is(err, store.ErrExists) {
			t.Fatalf("err = %v, want ErrExists", err)
		}
	})

	t.Run("the key finds its tenant by hash", func(t *testing.T) {
		got, stored, err := tenants.TenantByKeyHash(ctx, accesskey.Hash(key))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "acme" || accesskey.ID(stored) != ak.KeyID {
			t.Fatalf("got tenant %q key %q, want acme %q", got.ID, accesskey.ID(stored), ak.KeyID)
		}
	})

	t.Run("a rotated-in key and the old key both work until the old is revoked", func(t *testing.T) {
		newKey := accesskey.Generate()
		if _, err := tenants.AddKey(ctx, "acme", newKey); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{key, newKey} {
			if _, _, err := tenants.TenantByKeyHash(ctx, accesskey.Hash(k)); err != nil {
				t.Fatalf("key before revoke: %v", err)
			}
		}
		if err := tenants.RevokeKey(ctx, "acme", ak.KeyID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tenants.TenantByKeyHash(ctx, accesskey.Hash(key)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked key: err = %v, want ErrNotFound", err)
		}
		if _, _, err := tenants.TenantByKeyHash(ctx, accesskey.Hash(newKey)); err != nil {
			t.Fatalf("new key after revoke: %v", err)
		}
		keys, err := tenants.Keys(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 {
			t.Fatalf("got %d keys, want 2 (revoked keys are kept)", len(keys))
		}
	})

	t.Run("revoking an unknown key is ErrNotFound", func(t *testing.T) {
		if err := tenants.RevokeKey(ctx, "acme", "000000000000"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("update saves every setting and keeps the keys", func(t *testing.T) {
		got, err := tenants.Get(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		got.Name, got.RecordingBuckets = "Acme Group", []string{"acme-a", "acme-b"}
		got.ConnectEndpointURL, got.AWSRoleARN = "http://127.0.0.1:9200", "arn:aws:iam::111122223333:role/ingest"
		got.AgentFilter = agents.Filter{UsernamePatterns: []string{"agent.*"}}
		got.SyncInterval, got.SyncDisabled = time.Hour, true
		if err := tenants.Update(ctx, got); err != nil {
			t.Fatal(err)
		}
		back, err := tenants.Get(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if back.Name != "Acme Group" || len(back.RecordingBuckets) != 2 || back.ConnectEndpointURL != got.ConnectEndpointURL ||
			back.AWSRoleARN != got.AWSRoleARN || back.AgentFilter.UsernamePatterns[0] != "agent.*" ||
			back.SyncInterval != time.Hour || !back.SyncDisabled || !back.UpdatedAt.After(back.CreatedAt) {
			t.Fatalf("after update = %+v", back)
		}
		if keys, err := tenants.Keys(ctx, "acme"); err != nil || len(keys) != 2 {
			t.Fatalf("keys after update = %d, %v", len(keys), err)
		}
	})

	t.Run("a tenant that breaks a rule is refused when saved, not when its first call arrives", func(t *testing.T) {
		typo := newTenant("typo")
		typo.RecordingBuckets = []string{"Acme-Recordings"}
		if _, err := tenants.Create(ctx, typo, accesskey.Generate()); !errors.Is(err, tenant.ErrInvalid) {
			t.Fatalf("create: err = %v, want ErrInvalid", err)
		}
		if _, err := tenants.Get(ctx, "typo"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get after a refused create: err = %v, want ErrNotFound", err)
		}
		acme, err := tenants.Get(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		acme.RecordingBuckets = []string{"s3://acme"}
		if err := tenants.Update(ctx, acme); !errors.Is(err, tenant.ErrInvalid) {
			t.Fatalf("update: err = %v, want ErrInvalid", err)
		}
	})

	t.Run("updating or deleting an unknown tenant is ErrNotFound", func(t *testing.T) {
		if err := tenants.Update(ctx, newTenant("nobody")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update: err = %v, want ErrNotFound", err)
		}
		if err := tenants.Delete(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("delete removes the tenant and its keys", func(t *testing.T) {
		k := accesskey.Generate()
		if _, err := tenants.Create(ctx, newTenant("leaver"), k); err != nil {
			t.Fatal(err)
		}
		if err := tenants.Delete(ctx, "leaver"); err != nil {
			t.Fatal(err)
		}
		if _, err := tenants.Get(ctx, "leaver"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get after delete: err = %v", err)
		}
		if _, _, err := tenants.TenantByKeyHash(ctx, accesskey.Hash(k)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the deleted tenant's key still authenticates: %v", err)
		}
	})

	t.Run("an unknown tenant is ErrNotFound", func(t *testing.T) {
		if _, err := tenants.Get(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestMigrate(t *testing.T) {
	t.Run("a second run applies nothing", func(t *testing.T) {
		pool, _ := testenv.Database(t)
		n, err := store.Migrate(context.Background(), pool)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("applied %d migrations on an up-to-date database, want 0", n)
		}
	})
}
