package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// waitLockWaiter returns once a session of this database waits for an
// advisory lock: the statement run beside the test has reached the guard.
func waitLockWaiter(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no statement waits on the contact's lock: the write and the tombstone can interleave")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestErasureGuard holds Postgres to "an erased contact stays erased"
// whatever is in flight: a write of a contact and its tombstone never
// interleave, so the erasure either sees the write or the write is refused.
func TestErasureGuard(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	if _, err := store.NewTenants(pool).Create(ctx, newTenant("acme"), accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	convs, erasures := store.NewConversations(pool), store.NewErasures(pool)
	row := func(contact string) store.Conversation {
		return store.Conversation{TenantID: "acme", ContactID: contact, LastUpdateTimestamp: time.Now(), CTR: json.RawMessage(`{}`)}
	}

	t.Run("a write in flight when the erasure begins commits first, and the erasure then sees it", func(t *testing.T) {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO conversations (tenant_id, contact_id, last_update_timestamp, state, ctr)
			VALUES ('acme', 'c-first', now(), 'received', '{}')`); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := erasures.Begin(ctx, store.Erasure{TenantID: "acme", ContactID: "c-first", Reason: "r", RequestedBy: "t"})
			done <- err
		}()
		waitLockWaiter(t, pool)
		select {
		case err := <-done:
			t.Fatalf("the tombstone was written while a write of the contact was open (%v)", err)
		default:
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, _, err := convs.Get(ctx, "acme", "c-first"); err != nil {
			t.Fatalf("the erasure, reading after its tombstone, does not see the row: %v", err)
		}
	})

	t.Run("a write that starts while the tombstone is written waits for it, then is refused", func(t *testing.T) {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO erasures (tenant_id, contact_id, reason, requested_by)
			VALUES ('acme', 'c-second', 'r', 't')`); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := convs.UpsertMetadata(ctx, row("c-second"))
			done <- err
		}()
		waitLockWaiter(t, pool)
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !store.IsErased(err) {
			t.Fatalf("upsert after the tombstone: %v, want refused as erased", err)
		}
	})

	t.Run("another contact of the same tenant is written as before", func(t *testing.T) {
		if _, err := convs.UpsertMetadata(ctx, row("c-other")); err != nil {
			t.Fatal(err)
		}
		if err := erasures.Check(ctx, "acme", "c-other"); err != nil {
			t.Fatal(err)
		}
		if err := erasures.Check(ctx, "acme", "c-second"); !store.IsErased(err) {
			t.Fatalf("check of an erased contact: %v", err)
		}
	})
}

// TestOperatorRoles holds operators to their roles and tenants.
func TestOperatorRoles(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	ops := store.NewOperators(pool)

	t.Run("every role implies read; operate does not imply erase or raw", func(t *testing.T) {
		token, err := ops.Create(ctx, store.NewOperator{Name: "olga", Roles: []store.Role{store.RoleOperate}, Tenants: []string{"acme"}})
		if err != nil {
			t.Fatal(err)
		}
		o, err := ops.Verify(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if !o.Can(store.RoleRead) || !o.Can(store.RoleOperate) || o.Can(store.RoleErase) || o.Can(store.RoleRaw) {
			t.Fatalf("roles %v", o.Roles)
		}
		if !o.Scoped() || !o.Covers("acme") || o.Covers("other") {
			t.Fatalf("tenants %v", o.Tenants)
		}
	})

	t.Run("the bootstrap token's name, unknown roles and malformed tenants are refused", func(t *testing.T) {
		for _, n := range []store.NewOperator{
			{Name: store.BootstrapOperator, Roles: []store.Role{store.RoleRead}},
			{Name: "x", Roles: []store.Role{"admin"}},
			{Name: "x"},
			{Name: "x", Roles: []store.Role{store.RoleRead}, Tenants: []string{"bad tenant"}},
		} {
			if _, err := ops.Create(ctx, n); err == nil {
				t.Errorf("created %+v", n)
			}
		}
		// Postgres refuses the name too, whoever writes it.
		_, err := pool.Exec(ctx, `INSERT INTO operators (name, role, roles, token_sha256) VALUES ('bootstrap', 'read', '{read}', 'x')`)
		if err == nil {
			t.Fatal("Postgres stored an operator named bootstrap")
		}
	})
}

// TestAuditAct holds the audit log to "intent before action".
func TestAuditAct(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	audit := store.NewAudit(pool)

	t.Run("the entry is pending while the act runs, then carries its outcome and calls", func(t *testing.T) {
		err := audit.Act(ctx, store.AuditEntry{Operator: "alice", Action: "bulk-erase", Reason: "r"}, func(e *store.AuditEntry) error {
			got, err := audit.List(ctx, store.AuditFilter{Operator: "alice"})
			if err != nil || len(got) != 1 || got[0].Outcome != store.OutcomePending || got[0].CompletedAt != nil {
				t.Fatalf("during the act: %+v, %v", got, err)
			}
			e.Calls, e.Detail = []string{"acme/c-1", "acme/c-2"}, "2 matched"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := audit.List(ctx, store.AuditFilter{Operator: "alice"})
		if err != nil || len(got) != 1 || got[0].Outcome != store.OutcomeOK || len(got[0].Calls) != 2 || got[0].CompletedAt == nil {
			t.Fatalf("after the act: %+v, %v", got, err)
		}
	})

	t.Run("a refused act is recorded as refused", func(t *testing.T) {
		err := audit.Act(ctx, store.AuditEntry{Operator: "bob", Action: "retry"}, func(*store.AuditEntry) error {
			return store.Refused(store.ErrErased)
		})
		got, _ := audit.List(ctx, store.AuditFilter{Operator: "bob"})
		if err == nil || len(got) != 1 || got[0].Outcome != store.OutcomeRefused {
			t.Fatalf("%v: %+v", err, got)
		}
	})

	t.Run("when the intent cannot be written, the act does not run", func(t *testing.T) {
		if _, err := pool.Exec(ctx, `ALTER TABLE audit_log RENAME TO audit_log_away`); err != nil {
			t.Fatal(err)
		}
		ran := false
		err := audit.Act(ctx, store.AuditEntry{Operator: "carol", Action: "erase"}, func(*store.AuditEntry) error {
			ran = true
			return nil
		})
		if ran || err == nil {
			t.Fatalf("ran %v, err %v", ran, err)
		}
	})
}
