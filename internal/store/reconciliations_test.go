package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestReconciliations(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	for _, id := range []string{"acme", "other"} {
		if _, err := store.NewTenants(pool).Create(ctx, newTenant(id), accesskey.Generate()); err != nil {
			t.Fatal(err)
		}
	}
	recs, convs, versions, erasures := store.NewReconciliations(pool), store.NewConversations(pool), store.NewCTRVersions(pool), store.NewErasures(pool)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	raw := []byte(`{"ContactId":"x"}`)
	// c-stored has a conversation, c-queued only a stored CTR version not
	// yet processed, c-erased a tombstone; c-other is another tenant's.
	if _, err := convs.UpsertMetadata(ctx, store.Conversation{TenantID: "acme", ContactID: "c-stored", LastUpdateTimestamp: t0, CTR: json.RawMessage(raw)}); err != nil {
		t.Fatal(err)
	}
	if _, err := versions.Put(ctx, conversation.NewCTRRef("acme", "c-queued", t0, raw), raw, "req", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := erasures.Begin(ctx, store.Erasure{TenantID: "acme", ContactID: "c-erased", Reason: "asked", RequestedBy: "op"}); err != nil {
		t.Fatal(err)
	}
	if _, err := convs.UpsertMetadata(ctx, store.Conversation{TenantID: "other", ContactID: "c-other", LastUpdateTimestamp: t0, CTR: json.RawMessage(raw)}); err != nil {
		t.Fatal(err)
	}
	run := store.Reconciliation{TenantID: "acme", RunID: "backfill/acme@1", Kind: "backfill", From: t0, To: t0.Add(24 * time.Hour)}
	if err := recs.Begin(ctx, run); err != nil {
		t.Fatal(err)
	}
	page := []string{"c-stored", "c-queued", "c-erased", "c-other", "c-missing", "c-recovered", "c-recovering"}
	if err := recs.Mark(ctx, "acme", run.RunID, store.ReconciledContact{ContactID: "c-recovered", Outcome: store.Recovered}); err != nil {
		t.Fatal(err)
	}
	// An attempt that began recovering c-recovering stored its CTR, then died.
	if err := recs.Mark(ctx, "acme", run.RunID, store.ReconciledContact{ContactID: "c-recovering", Outcome: store.Recovering}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO conversations (tenant_id, contact_id, last_update_timestamp, state, ctr)
		SELECT tenant_id, 'c-recovering', last_update_timestamp, state, ctr FROM conversations WHERE tenant_id = 'acme' LIMIT 1`); err != nil {
		t.Fatal(err)
	}

	t.Run("a contact is present with a conversation or a stored version of the same tenant, and erased with a tombstone", func(t *testing.T) {
		known, err := recs.Known(ctx, "acme", run.RunID, page)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(known.Present); got != "map[c-queued:true c-stored:true]" {
			t.Errorf("present %s", got)
		}
		if got := fmt.Sprint(known.Erased); got != "map[c-erased:true]" {
			t.Errorf("erased %s", got)
		}
		if got := fmt.Sprint(known.Recovered); got != "map[c-recovered:true]" {
			t.Errorf("recovered %s: a contact this run recovered counts as recovered when its page is read again", got)
		}
		if got := fmt.Sprint(known.Recovering); got != "map[c-recovering:true]" {
			t.Errorf("recovering %s: a contact whose recovery began is recovered again, though it is now stored", got)
		}
	})

	t.Run("another run does not count this run's recoveries", func(t *testing.T) {
		known, err := recs.Known(ctx, "acme", "backfill/acme@2", page)
		if err != nil || len(known.Recovered) != 0 || len(known.Recovering) != 0 || !known.Present["c-recovering"] {
			t.Fatalf("known %+v, %v", known, err)
		}
	})

	t.Run("a run's totals are kept, and it lists newest first once finished", func(t *testing.T) {
		if err := recs.Begin(ctx, run); err != nil {
			t.Fatal("beginning again:", err)
		}
		counts := store.ReconcileCounts{Seen: 7, Present: 3, Recovered: 2, Unrecoverable: 1, Analysed: 1, Erased: 1}
		if err := recs.Update(ctx, "acme", run.RunID, counts, true); err != nil {
			t.Fatal(err)
		}
		last, err := recs.LastFinished(ctx, "acme")
		if err != nil || last.ReconcileCounts != counts || last.FinishedAt == nil {
			t.Fatalf("last %+v, %v", last, err)
		}
		if _, err := recs.LastFinished(ctx, "other"); err != store.ErrNotFound {
			t.Fatalf("another tenant's last run: %v", err)
		}
		list, err := recs.List(ctx, "acme", 10)
		if err != nil || len(list) != 1 || list[0].RunID != run.RunID {
			t.Fatalf("list %+v, %v", list, err)
		}
	})

	t.Run("an hour is quiet when Connect had at least the minimum of calls, all missing, and Firehose delivered none", func(t *testing.T) {
		quietRun := store.Reconciliation{TenantID: "acme", RunID: "reconcile/acme@q", Kind: "nightly", From: t0, To: t0.Add(24 * time.Hour)}
		if err := recs.Begin(ctx, quietRun); err != nil {
			t.Fatal(err)
		}
		missing := func(hour, n int) {
			for i := range n {
				at := t0.Add(time.Duration(hour)*time.Hour + time.Duration(i)*time.Minute)
				c := store.ReconciledContact{ContactID: fmt.Sprintf("m-%d-%d", hour, i), Outcome: store.Recovered, DisconnectedAt: &at}
				if err := recs.Mark(ctx, "acme", quietRun.RunID, c); err != nil {
					t.Fatal(err)
				}
			}
		}
		missing(1, 4) // 10:00: quiet
		missing(2, 3) // 11:00: one call delivered, so not quiet
		missing(3, 2) // 12:00: too few to tell
		delivered := t0.Add(2*time.Hour + 30*time.Minute)
		if _, err := versions.Put(ctx, conversation.NewCTRRef("acme", "d-11", delivered, raw), raw, "req", "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := convs.UpsertMetadata(ctx, store.Conversation{TenantID: "acme", ContactID: "d-11", LastUpdateTimestamp: delivered,
			DisconnectTimestamp: &delivered, CTR: json.RawMessage(raw)}); err != nil {
			t.Fatal(err)
		}
		n, first, err := recs.QuietHours(ctx, "acme", quietRun.RunID, quietRun.From, quietRun.To, 3)
		if err != nil || n != 1 || first == nil || !first.Equal(t0.Add(time.Hour)) {
			t.Fatalf("quiet hours %d from %v, %v; want 1 from 10:00", n, first, err)
		}
		list, err := recs.List(ctx, "acme", 10)
		if err != nil || list[0].RunID != quietRun.RunID || list[0].QuietHours != 1 {
			t.Fatalf("the run's record %+v, %v", list, err)
		}
	})
}
