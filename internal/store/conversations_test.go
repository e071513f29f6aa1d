package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func newConversation(lu time.Time, queue string) store.Conversation {
	return store.Conversation{
		TenantID: "acme", ContactID: "c-1", LastUpdateTimestamp: lu, Channel: "VOICE", QueueName: queue,
		Attributes: map[string]string{"q": queue}, CTR: json.RawMessage(`{"ContactId":"c-1"}`),
	}
}

func TestConversations(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	if _, err := store.NewTenants(pool).Create(ctx, newTenant("acme"), accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	convs := store.NewConversations(pool)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

	t.Run("a first CTR version is stored as received", func(t *testing.T) {
		wrote, err := convs.UpsertMetadata(ctx, newConversation(t0, "Sales"))
		if err != nil || !wrote {
			t.Fatalf("wrote=%v err=%v", wrote, err)
		}
		c, _, err := convs.Get(ctx, "acme", "c-1")
		if err != nil {
			t.Fatal(err)
		}
		if c.State != conversation.Received || c.QueueName != "Sales" || c.Attributes["q"] != "Sales" {
			t.Fatalf("got %+v", c)
		}
	})

	t.Run("a newer version updates the metadata but not the state", func(t *testing.T) {
		if err := convs.SetState(ctx, "acme", "c-1", conversation.Stored, ""); err != nil {
			t.Fatal(err)
		}
		wrote, err := convs.UpsertMetadata(ctx, newConversation(t0.Add(time.Minute), "Support"))
		if err != nil || !wrote {
			t.Fatalf("wrote=%v err=%v", wrote, err)
		}
		c, _, _ := convs.Get(ctx, "acme", "c-1")
		if c.QueueName != "Support" || c.State != conversation.Stored {
			t.Fatalf("got queue %q state %q", c.QueueName, c.State)
		}
	})

	t.Run("an older or equal version changes nothing", func(t *testing.T) {
		for _, lu := range []time.Time{t0, t0.Add(time.Minute)} {
			wrote, err := convs.UpsertMetadata(ctx, newConversation(lu, "Stale"))
			if err != nil || wrote {
				t.Fatalf("at %v: wrote=%v err=%v", lu, wrote, err)
			}
		}
		c, _, _ := convs.Get(ctx, "acme", "c-1")
		if c.QueueName != "Support" {
			t.Fatalf("queue = %q, want Support", c.QueueName)
		}
	})

	t.Run("the analysis mark is set once per set of recordings", func(t *testing.T) {
		first, err := convs.MarkEnqueued(ctx, "acme", "c-1", "fp-1")
		if err != nil || !first {
			t.Fatalf("first=%v err=%v", first, err)
		}
		again, err := convs.MarkEnqueued(ctx, "acme", "c-1", "fp-1")
		if err != nil || again {
			t.Fatalf("second mark: again=%v err=%v", again, err)
		}
		changed, err := convs.MarkEnqueued(ctx, "acme", "c-1", "fp-2")
		if err != nil || !changed {
			t.Fatalf("mark for changed recordings: %v, %v", changed, err)
		}
		c, _, _ := convs.Get(ctx, "acme", "c-1")
		if c.State != conversation.Enqueued || c.AnalysisEnqueuedAt == nil {
			t.Fatalf("got state %q enqueued %v", c.State, c.AnalysisEnqueuedAt)
		}
	})

	t.Run("a recording upserts by its source location", func(t *testing.T) {
		size := int64(1234)
		now := time.Now()
		r := store.Recording{TenantID: "acme", ContactID: "c-1", SourceLocation: "b/k.wav", Participant: "AGENT"}
		if err := convs.UpsertRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.ObjectBucket, r.ObjectKey, r.SizeBytes, r.SHA256, r.CopiedAt = "recordings", "acme/x.wav", &size, "abc", &now
		if err := convs.UpsertRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		_, recs, err := convs.Get(ctx, "acme", "c-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].ObjectKey != "acme/x.wav" || *recs[0].SizeBytes != 1234 {
			t.Fatalf("got %+v", recs)
		}
	})

	t.Run("an unknown conversation is ErrNotFound", func(t *testing.T) {
		if _, _, err := convs.Get(ctx, "acme", "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
		if err := convs.SetState(ctx, "acme", "nope", conversation.Failed, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("a conversation links to its agent once the agent sync has seen the user, even later", func(t *testing.T) {
		c := newConversation(t0, "Support")
		c.ContactID, c.AgentUserID, c.AgentUsername = "c-agent", "u-77", "jdoe"
		if _, err := convs.UpsertMetadata(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, _, err := convs.Get(ctx, "acme", "c-agent")
		if err != nil || got.Agent != nil {
			t.Fatalf("before the sync: agent = %+v, %v; want none", got.Agent, err)
		}
		agents := store.NewAgents(pool)
		if err := agents.Upsert(ctx, store.Agent{TenantID: "acme", UserID: "u-77", Username: "jdoe", FirstName: "Jane", LastName: "Doe", Email: "jane@example.com"}); err != nil {
			t.Fatal(err)
		}
		got, _, err = convs.Get(ctx, "acme", "c-agent")
		if err != nil || got.Agent == nil || got.Agent.FirstName != "Jane" || got.Agent.Email != "jane@example.com" || !got.Agent.Active {
			t.Fatalf("after the sync: agent = %+v, %v", got.Agent, err)
		}
		listed, _, err := convs.List(ctx, store.ConversationFilter{TenantID: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range listed {
			if (l.ContactID == "c-agent") != (l.Agent != nil) {
				t.Fatalf("list: %s has agent %+v", l.ContactID, l.Agent)
			}
		}
	})
}

func TestStuckConversations(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	for _, id := range []string{"acme", "globex"} {
		if _, err := store.NewTenants(pool).Create(ctx, newTenant(id), accesskey.Generate()); err != nil {
			t.Fatal(err)
		}
	}
	convs := store.NewConversations(pool)
	put := func(tenant, contact string, state conversation.State, age time.Duration) {
		t.Helper()
		c := newConversation(time.Now(), "Sales")
		c.TenantID, c.ContactID = tenant, contact
		if _, err := convs.UpsertMetadata(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE conversations SET state = $3, updated_at = now() - $4::interval
			WHERE tenant_id = $1 AND contact_id = $2`, tenant, contact, string(state), age); err != nil {
			t.Fatal(err)
		}
	}
	put("acme", "old-copying", conversation.Copying, 3*time.Hour)
	put("acme", "old-waiting", conversation.WaitingRecording, 2*time.Hour)
	put("acme", "fresh-copying", conversation.Copying, time.Minute)
	put("acme", "old-enqueued", conversation.Enqueued, 5*time.Hour)
	put("globex", "old-failed", conversation.Failed, 5*time.Hour)

	got, err := convs.Stuck(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["acme"] != 2 {
		t.Fatalf("stuck = %v, want acme's two unfinished calls older than an hour, and no final one", got)
	}
}
