package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
)

func TestAgentsCommands(t *testing.T) {
	e := newSyncEnv(t, 1500)
	tenant := e.id("acme")
	e.must(t, "tenants", "add", "--id", tenant, "--name", "Acme", "--instance-arn", e.arn, "--connect-endpoint-url", e.url)
	result := regexp.MustCompile(`(\d+) users listed over (\d+) pages, (\d+) described, (\d+) agents kept, (\d+) deactivated`)
	sync := func(t *testing.T) (listed, pages, described, kept, deactivated int) {
		t.Helper()
		out := e.must(t, "agents", "sync", tenant)
		m := result.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no result printed:\n%s", out)
		}
		fmt.Sscan(strings.Join(m[1:], " "), &listed, &pages, &described, &kept, &deactivated)
		return
	}
	list := func(t *testing.T, args ...string) map[string]store.Agent {
		t.Helper()
		var got []store.Agent
		if err := json.Unmarshal([]byte(e.must(t, append([]string{"agents", "list", tenant, "--json"}, args...)...)), &got); err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Agent{}
		for _, a := range got {
			out[a.UserID] = a
		}
		return out
	}

	t.Run("sync waits for the run and reports it; every user becomes an agent", func(t *testing.T) {
		listed, pages, _, kept, _ := sync(t)
		if listed != 1500 || pages != 15 || kept != 1500 { // SearchUsers: 100 a page
			t.Fatalf("listed %d over %d pages, kept %d", listed, pages, kept)
		}
		got := list(t)
		want := connectapi.GeneratedUser(42)
		a := got[want.ID]
		if len(got) != 1500 || a.Username != want.Username || a.LastName != want.LastName || !a.Active || a.SyncedAt == nil {
			t.Fatalf("%d agents; user 42 = %+v", len(got), a)
		}
	})

	t.Run("a second sync with nothing changed describes no one", func(t *testing.T) {
		before := e.server.DescribeCalls.Load()
		if _, _, described, _, _ := sync(t); described != 0 {
			t.Fatalf("%d described", described)
		}
		if calls := e.server.DescribeCalls.Load() - before; calls != 0 {
			t.Fatalf("%d DescribeUser calls reached the stand-in", calls)
		}
	})

	t.Run("a user removed from Connect is listed as inactive, not deleted", func(t *testing.T) {
		gone := connectapi.GeneratedUser(3)
		e.dir.Remove(gone.ID)
		if _, _, _, _, deactivated := sync(t); deactivated != 1 {
			t.Fatalf("%d deactivated, want 1", deactivated)
		}
		if a, ok := list(t)[gone.ID]; !ok || a.Active {
			t.Fatalf("removed user = %+v (listed %t), want inactive", a, ok)
		}
		if _, ok := list(t, "--active")[gone.ID]; ok {
			t.Fatal("--active lists the inactive agent")
		}
	})

	t.Run("a narrower filter deactivates the users it leaves out", func(t *testing.T) {
		rp := connectapi.GeneratedUser(0).RoutingProfileID
		e.must(t, "tenants", "update", tenant, "--agent-routing-profile", rp)
		_, _, _, kept, _ := sync(t)
		active := list(t, "--active")
		if kept == 0 || kept >= 1499 || len(active) != kept {
			t.Fatalf("kept %d, %d active", kept, len(active))
		}
		for _, a := range active {
			if a.RoutingProfileID != rp {
				t.Fatalf("agent %s with routing profile %s is active", a.Username, a.RoutingProfileID)
			}
		}
	})

	t.Run("the table lists username, name and state", func(t *testing.T) {
		out := e.must(t, "agents", "list", tenant)
		u := connectapi.GeneratedUser(0)
		if !strings.Contains(out, u.Username) || !strings.Contains(out, u.FirstName+" "+u.LastName) || !strings.Contains(out, "ACTIVE") {
			t.Fatalf("table:\n%.600s", out)
		}
	})

	t.Run("an unknown tenant is an error", func(t *testing.T) {
		for _, cmd := range []string{"sync", "list"} {
			if _, err := e.ingestctl(t, "agents", cmd, "nobody"); err == nil {
				t.Errorf("agents %s nobody: want an error", cmd)
			}
		}
	})
}
