package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestOperators(t *testing.T) {
	pool, dsn := testenv.Database(t)

	var token string
	t.Run("create prints the token once; only its hash is kept", func(t *testing.T) {
		token = strings.TrimSpace(mustIngestctl(t, dsn, "operators", "create", "alice", "--role", "operate"))
		if !strings.HasPrefix(token, "cio_") || len(token) < 40 {
			t.Fatalf("token %q", token)
		}
		op, err := store.NewOperators(pool).Verify(t.Context(), token)
		if err != nil || op.Name != "alice" || !op.Can(store.RoleOperate) || op.Can(store.RoleErase) || op.Scoped() {
			t.Fatalf("verify: %+v, %v", op, err)
		}
		if out := mustIngestctl(t, dsn, "operators", "list"); !strings.Contains(out, "alice") || strings.Contains(out, token) {
			t.Fatalf("list:\n%s", out)
		}
	})

	t.Run("a bad name or role, or a name taken, is refused", func(t *testing.T) {
		for _, args := range [][]string{{"Alice"}, {"a b"}, {"bob", "--role", "admin"}, {"alice"}} {
			if _, err := ingestctl(t, dsn, append([]string{"operators", "create"}, args...)...); err == nil {
				t.Errorf("create %v accepted", args)
			}
		}
	})

	t.Run("revoke refuses the token from then on", func(t *testing.T) {
		mustIngestctl(t, dsn, "operators", "revoke", "alice")
		if _, err := store.NewOperators(pool).Verify(t.Context(), token); err == nil {
			t.Fatal("a revoked token still verifies")
		}
		if _, err := ingestctl(t, dsn, "operators", "revoke", "alice"); err == nil {
			t.Fatal("revoking twice succeeded")
		}
	})
}

func TestAuditList(t *testing.T) {
	pool, dsn := testenv.Database(t)
	addTenant(t, pool, "acme")
	audit := store.NewAudit(pool)
	for _, e := range []store.AuditEntry{
		{Operator: "alice", Action: "cancel", Target: "acme/c-1", Reason: "consent withdrawn", Outcome: "ok"},
		{Operator: "bob", Action: "bulk-retry", Filter: map[string]any{"tenant": "acme", "stuck": true}, Outcome: "ok", Detail: "3 matched, 0 failed"},
	} {
		if _, err := audit.Begin(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("the table shows who did what to which calls, newest first", func(t *testing.T) {
		out := mustIngestctl(t, dsn, "audit", "list")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.Contains(lines[1], "bob") || !strings.Contains(lines[1], "tenant=acme stuck") ||
			!strings.Contains(lines[2], "acme/c-1") || !strings.Contains(lines[2], "consent withdrawn") {
			t.Fatalf("listing:\n%s", out)
		}
	})

	t.Run("--operator selects and --json is stable", func(t *testing.T) {
		var got []auditJSON
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "audit", "list", "--operator", "alice", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Action != "cancel" || got[0].Target != "acme/c-1" || got[0].Outcome != "ok" {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("a retry through ingestctl is audited under the login, with its outcome", func(t *testing.T) {
		if _, err := ingestctl(t, dsn, "calls", "retry", "acme", "nobody"); err == nil {
			t.Fatal("retrying an unknown call succeeded")
		}
		entries, err := audit.List(t.Context(), store.AuditFilter{Limit: 1})
		if err != nil || len(entries) != 1 {
			t.Fatalf("%+v, %v", entries, err)
		}
		e := entries[0]
		if !strings.HasPrefix(e.Operator, "ingestctl") || e.Action != "retry" || e.Target != "acme/nobody" || e.Outcome != "error" {
			t.Fatalf("entry %+v", e)
		}
	})
}
