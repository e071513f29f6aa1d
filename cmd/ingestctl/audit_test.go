package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// unaudited are the commands that take no privileged act: they read
// metadata, or set up what every deployment has. A new command is either
// here or in auditedActs, by decision.
var unaudited = []string{
	"migrate", "setup", "tenants list", "tenants show", "tenants keys", "tenants check", "tenants instances list",
	"agents list", "calls list", "calls show", "operators list", "audit list", "reconcile list",
}

func TestAuditedActs(t *testing.T) {
	t.Run("every runnable command is audited or named as taking no privileged act", func(t *testing.T) {
		root := (&app{}).rootCmd()
		var found []string
		var walk func(*cobra.Command)
		walk = func(c *cobra.Command) {
			if c.Runnable() && c != root {
				path := strings.TrimPrefix(c.CommandPath(), "ingestctl ")
				found = append(found, path)
				if _, ok := auditedActs[path]; !ok && !slices.Contains(unaudited, path) {
					t.Errorf("command %q is neither audited nor named as unaudited", path)
				}
			}
			for _, sub := range c.Commands() {
				walk(sub)
			}
		}
		walk(root)
		for path := range auditedActs {
			if !slices.Contains(found, path) {
				t.Errorf("auditedActs names %q, which is no command", path)
			}
		}
	})

	pool, dsn := testenv.Database(t)
	addTenant(t, pool, "acme")
	audit := store.NewAudit(pool)

	t.Run("an act is recorded under the login with its target, flags and outcome; secrets are not kept", func(t *testing.T) {
		mustIngestctl(t, dsn, "operators", "create", "dora", "--role", "erase", "--tenant", "acme")
		mustIngestctl(t, dsn, "rejected", "list", "--tenant", "acme")
		var got []auditJSON
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "audit", "list", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("entries %+v", got)
		}
		raw, create := got[0], got[1]
		if raw.Action != "read-raw" || raw.Outcome != store.OutcomeOK || raw.Filter["tenant"] != "acme" || raw.CompletedAt == nil {
			t.Errorf("raw read: %+v", raw)
		}
		if create.Action != "operator-create" || create.Target != "dora" || !strings.HasPrefix(create.Operator, "ingestctl") ||
			create.Outcome != store.OutcomeOK || create.Filter["role"] != "[erase]" {
			t.Errorf("create: %+v", create)
		}
		if s := secretFlag.String(); !secretFlag.MatchString("access-key") || !secretFlag.MatchString("external-id") {
			t.Errorf("%s lets a secret through", s)
		}
	})

	t.Run("an erased contact's retry is refused with a clear message and recorded as refused", func(t *testing.T) {
		if _, err := store.NewErasures(pool).Begin(t.Context(), store.Erasure{TenantID: "acme", ContactID: "c-gone", Reason: "r", RequestedBy: "t"}); err != nil {
			t.Fatal(err)
		}
		_, err := ingestctl(t, dsn, "calls", "retry", "acme", "c-gone")
		if err == nil || !strings.Contains(err.Error(), "acme/c-gone was erased") {
			t.Fatalf("retry of an erased contact: %v", err)
		}
		e, lerr := audit.List(t.Context(), store.AuditFilter{Action: "retry", Limit: 1})
		if lerr != nil || len(e) != 1 || e[0].Outcome != store.OutcomeRefused || e[0].Target != "acme/c-gone" {
			t.Fatalf("audit %+v, %v", e, lerr)
		}
	})

	t.Run("when the intent cannot be written, nothing is done", func(t *testing.T) {
		if _, err := pool.Exec(t.Context(), `ALTER TABLE audit_log RENAME TO audit_log_away`); err != nil {
			t.Fatal(err)
		}
		defer pool.Exec(t.Context(), `ALTER TABLE audit_log_away RENAME TO audit_log`)
		if _, err := ingestctl(t, dsn, "operators", "create", "eve", "--role", "read"); err == nil ||
			!strings.Contains(err.Error(), "audit log") {
			t.Fatalf("create without an audit log: %v", err)
		}
		ops, err := store.NewOperators(pool).List(t.Context())
		if err != nil || slices.ContainsFunc(ops, func(o store.Operator) bool { return o.Name == "eve" }) {
			t.Fatalf("eve was created: %+v, %v", ops, err)
		}
	})
}
