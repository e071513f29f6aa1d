package store_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestErasures(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	for _, id := range []string{"acme", "other"} {
		if _, err := store.NewTenants(pool).Create(ctx, newTenant(id), accesskey.Generate()); err != nil {
			t.Fatal(err)
		}
	}
	convs, versions, erasures := store.NewConversations(pool), store.NewCTRVersions(pool), store.NewErasures(pool)
	quarantine := store.NewQuarantine(pool)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	seed := func(tenant, contact string, ended time.Time) {
		t.Helper()
		raw := []byte(`{"ContactId":"` + contact + `"}`)
		if _, err := versions.Put(ctx, conversation.NewCTRRef(tenant, contact, ended, raw), raw, "req", "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		c := store.Conversation{TenantID: tenant, ContactID: contact, LastUpdateTimestamp: ended, DisconnectTimestamp: &ended,
			CTR: json.RawMessage(raw)}
		if _, err := convs.UpsertMetadata(ctx, c); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		size := int64(10)
		if err := convs.UpsertRecording(ctx, store.Recording{TenantID: tenant, ContactID: contact, SourceLocation: "b/" + contact + ".wav",
			ObjectBucket: "rec", ObjectKey: tenant + "/" + contact, SizeBytes: &size, CopiedAt: &now}); err != nil {
			t.Fatal(err)
		}
		rej := store.NewRejected([]byte(`{"ContactId":"` + contact + `","bad":`))
		rej.TenantID, rej.FirehoseRequestID, rej.Reason = tenant, "req-"+contact, "invalid_json"
		recs := []store.Rejected{rej}
		// A record refused as bad base64 is kept as the base64 text it
		// arrived in, the contact's ID at any of base64's three alignments.
		for i, pad := range []string{"", "a", "ab"} {
			b64 := base64.StdEncoding.EncodeToString([]byte(`{"` + pad + `":1,"ContactId":"` + contact + `"}`))
			r := store.NewRejected([]byte(b64 + "!"))
			r.TenantID, r.FirehoseRequestID, r.RecordIndex, r.Reason = tenant, "req-"+contact, i+1, "bad_base64"
			recs = append(recs, r)
		}
		if _, err := quarantine.Put(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	seed("acme", "c-gone", t0)
	seed("acme", "c-kept", t0)
	seed("other", "c-gone", t0)

	t.Run("a contact never erased has no tombstone", func(t *testing.T) {
		if _, err := erasures.Get(ctx, "acme", "c-gone"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("beginning an erasure twice keeps the first reason and requester", func(t *testing.T) {
		first, err := erasures.Begin(ctx, store.Erasure{TenantID: "acme", ContactID: "c-gone", Reason: "subject request", RequestedBy: "ann"})
		if err != nil || first.Reason != "subject request" || first.ErasedAt != nil {
			t.Fatalf("begin = %+v, %v", first, err)
		}
		again, err := erasures.Begin(ctx, store.Erasure{TenantID: "acme", ContactID: "c-gone", Reason: "other", RequestedBy: "bob"})
		if err != nil || again.Reason != "subject request" || again.RequestedBy != "ann" {
			t.Fatalf("begin again = %+v, %v", again, err)
		}
	})

	t.Run("a CTR version of a contact being erased is refused and counted", func(t *testing.T) {
		raw := []byte(`{"ContactId":"c-gone","v":2}`)
		st, err := versions.Put(ctx, conversation.NewCTRRef("acme", "c-gone", t0.Add(time.Hour), raw), raw, "req-2", "", time.Time{})
		if err != nil || !st.Erased || st.Done {
			t.Fatalf("put = %+v, %v; want erased", st, err)
		}
		if _, err := versions.Get(ctx, conversation.NewCTRRef("acme", "c-gone", t0.Add(time.Hour), raw)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the refused version was stored: %v", err)
		}
		e, _ := erasures.Get(ctx, "acme", "c-gone")
		if e.RefusedCount != 1 || e.LastRefusedAt == nil {
			t.Fatalf("tombstone %+v, want one refusal", e)
		}
	})

	t.Run("purge removes the contact's rows and quarantined records, and nothing of others", func(t *testing.T) {
		p, err := erasures.Purge(ctx, "acme", "c-gone")
		if err != nil {
			t.Fatal(err)
		}
		if p != (store.Purged{Conversations: 1, Recordings: 1, CTRVersions: 1, Rejected: 4}) {
			t.Fatalf("purged %+v", p)
		}
		if again, err := erasures.Purge(ctx, "acme", "c-gone"); err != nil || again != (store.Purged{}) {
			t.Fatalf("purge again = %+v, %v", again, err)
		}
		for _, k := range []struct{ tenant, contact string }{{"acme", "c-kept"}, {"other", "c-gone"}} {
			if _, recs, err := convs.Get(ctx, k.tenant, k.contact); err != nil || len(recs) != 1 {
				t.Fatalf("%s/%s touched: %v, %d recordings", k.tenant, k.contact, err, len(recs))
			}
		}
		var rejected int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM rejected_records`).Scan(&rejected); err != nil || rejected != 8 {
			t.Fatalf("%d quarantined records left, want the 8 of other contacts (%v)", rejected, err)
		}
		if err := erasures.Finish(ctx, "acme", "c-gone"); err != nil {
			t.Fatal(err)
		}
		if e, _ := erasures.Get(ctx, "acme", "c-gone"); e.ErasedAt == nil {
			t.Fatal("finished erasure has no erased_at")
		}
	})

	t.Run("calls ended before a cutoff are paged oldest first", func(t *testing.T) {
		seed("acme", "p-3", t0.Add(-24*time.Hour))
		seed("acme", "p-1", t0.Add(-72*time.Hour))
		seed("acme", "p-2", t0.Add(-48*time.Hour))
		var got []string
		after := store.Ended{}
		for {
			page, err := erasures.EndedBefore(ctx, "acme", t0.Add(-30*time.Hour), after, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page[0].ContactID)
			after = page[0]
		}
		if len(got) != 2 || got[0] != "p-1" || got[1] != "p-2" {
			t.Fatalf("paged %v, want [p-1 p-2]", got)
		}
	})
}
