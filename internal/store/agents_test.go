package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestAgents(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	if _, err := store.NewTenants(pool).Create(ctx, newTenant("acme"), accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	agents := store.NewAgents(pool)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	agent := func(id, username string, modified time.Time) store.Agent {
		return store.Agent{TenantID: "acme", UserID: id, Username: username, FirstName: "Ava", RoutingProfileID: "rp-1",
			SecurityProfileIDs: []string{"sp-agent"}, Tags: map[string]string{"team": "blue"}, LastModified: &modified}
	}

	t.Run("an upserted user is an active agent with its fields", func(t *testing.T) {
		for _, a := range []store.Agent{agent("u-1", "ava", t0), agent("u-2", "leo", t0)} {
			if err := agents.Upsert(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		list, err := agents.List(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || !list[0].Active || list[0].Username != "ava" || list[0].Tags["team"] != "blue" ||
			list[0].SecurityProfileIDs[0] != "sp-agent" || list[0].SyncedAt == nil {
			t.Fatalf("list = %+v", list)
		}
	})

	t.Run("Known reports each agent's last synced LastModifiedTime", func(t *testing.T) {
		if err := agents.Upsert(ctx, agent("u-2", "leo.renamed", t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		known, err := agents.Known(ctx, "acme", []string{"u-1", "u-2", "u-unknown"})
		if err != nil {
			t.Fatal(err)
		}
		if len(known) != 2 {
			t.Fatalf("known = %v, want u-1 and u-2 only", known)
		}
		if only, _ := agents.Known(ctx, "acme", []string{"u-2"}); len(only) != 1 {
			t.Fatalf("Known for one ID returned %d agents", len(only))
		}
		if !known["u-1"].LastModified.Equal(t0) || !known["u-2"].LastModified.Equal(t0.Add(time.Hour)) || known["u-2"].Username != "leo.renamed" {
			t.Fatalf("known = %v", known)
		}
	})

	t.Run("users a sync did not see become inactive, are never deleted, and come back when seen again", func(t *testing.T) {
		if err := agents.MarkSeen(ctx, "acme", "sync-2", []string{"u-2"}); err != nil {
			t.Fatal(err)
		}
		n, err := agents.DeactivateUnseen(ctx, "acme", "sync-2")
		if err != nil || n != 1 {
			t.Fatalf("deactivated %d, %v", n, err)
		}
		list, _ := agents.List(ctx, "acme")
		if len(list) != 2 || list[0].Active || !list[1].Active {
			t.Fatalf("list = %+v", list)
		}
		if known, _ := agents.Known(ctx, "acme", []string{"u-1", "u-2"}); len(known) != 1 {
			t.Fatalf("an inactive agent is still known: %v", known)
		}
		if err := agents.Upsert(ctx, agent("u-1", "ava", t0)); err != nil {
			t.Fatal(err)
		}
		if a, err := agents.Get(ctx, "acme", "u-1"); err != nil || !a.Active {
			t.Fatalf("re-seen agent = %+v, %v", a, err)
		}
	})
}
