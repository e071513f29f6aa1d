package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/operations"
)

func TestCallsCommands(t *testing.T) {
	pool, dsn := testenv.Database(t)
	ctx := context.Background()
	addTenant(t, pool, "acme")
	convs := store.NewConversations(pool)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for _, c := range []store.Conversation{
		{TenantID: "acme", ContactID: "c-voice", LastUpdateTimestamp: t0, Channel: "VOICE", AgentUsername: "jdoe", AgentUserID: "u-7", CTR: json.RawMessage(`{}`)},
		{TenantID: "acme", ContactID: "c-chat", LastUpdateTimestamp: t0, Channel: "CHAT", CTR: json.RawMessage(`{}`)},
	} {
		if _, err := convs.UpsertMetadata(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	size := int64(64044)
	now := time.Now()
	if err := convs.UpsertRecording(ctx, store.Recording{TenantID: "acme", ContactID: "c-voice", SourceLocation: "b/k.wav",
		ObjectBucket: "recordings", ObjectKey: "acme/2026/11/24/c-voice/ab.wav", SizeBytes: &size, SHA256: "f00d", CopiedAt: &now}); err != nil {
		t.Fatal(err)
	}
	if _, err := convs.MarkEnqueued(ctx, "acme", "c-voice", "fp-1"); err != nil {
		t.Fatal(err)
	}
	if err := convs.SetState(ctx, "acme", "c-chat", conversation.NoRecording, "channel CHAT has no call audio"); err != nil {
		t.Fatal(err)
	}

	t.Run("list --json carries state, recordings, analysis and the Temporal link", func(t *testing.T) {
		var got []operations.View
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "calls", "list", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d calls, want 2", len(got))
		}
		var voice operations.View
		for _, c := range got {
			if c.ContactID == "c-voice" {
				voice = c
			}
		}
		if voice.State != conversation.Enqueued || voice.AnalysisEnqueuedAt == nil || len(voice.Recordings) != 1 ||
			voice.Recordings[0].SHA256 != "f00d" || *voice.Recordings[0].SizeBytes != size || voice.WorkflowID != "conversation/acme/c-voice" {
			t.Fatalf("voice call = %+v", voice)
		}
		u, err := url.Parse(voice.TemporalURL)
		if err != nil || !strings.Contains(u.Query().Get("query"), `"conversation/acme/c-voice"`) || !strings.HasPrefix(voice.TemporalURL, "http://127.0.0.1:8233/namespaces/default/workflows") {
			t.Fatalf("temporal url = %q", voice.TemporalURL)
		}
	})

	t.Run("list filters by state", func(t *testing.T) {
		var got []operations.View
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "calls", "list", "--json", "--state", "no_recording")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ContactID != "c-chat" || got[0].StateDetail == "" {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("the table shows one row per call", func(t *testing.T) {
		out := mustIngestctl(t, dsn, "calls", "list", "--tenant", "acme")
		if strings.Count(out, "\n") != 3 || !strings.Contains(out, "c-voice") || !strings.Contains(out, "enqueued") {
			t.Fatalf("table:\n%s", out)
		}
	})

	t.Run("show names the recording object and the workflow", func(t *testing.T) {
		out := mustIngestctl(t, dsn, "calls", "show", "acme", "c-voice")
		for _, want := range []string{"recordings/acme/2026/11/24/c-voice/ab.wav", "sha256 f00d", "conversation/acme/c-voice", "jdoe"} {
			if !strings.Contains(out, want) {
				t.Errorf("show lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("show links the agent once the agent sync has seen the user", func(t *testing.T) {
		if out := mustIngestctl(t, dsn, "calls", "show", "acme", "c-voice"); !strings.Contains(out, "jdoe (u-7; not synced yet)") {
			t.Fatalf("before the sync:\n%s", out)
		}
		err := store.NewAgents(pool).Upsert(ctx, store.Agent{TenantID: "acme", UserID: "u-7", Username: "jdoe", FirstName: "Jane", LastName: "Doe", Email: "jane@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if out := mustIngestctl(t, dsn, "calls", "show", "acme", "c-voice"); !strings.Contains(out, "jdoe (Jane Doe, jane@example.com; u-7)") {
			t.Fatalf("after the sync:\n%s", out)
		}
		var got operations.View
		if err := json.Unmarshal([]byte(mustIngestctl(t, dsn, "calls", "show", "acme", "c-voice", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if got.Agent == nil || got.Agent.UserID != "u-7" || got.Agent.LastName != "Doe" {
			t.Fatalf("agent = %+v", got.Agent)
		}
	})

	t.Run("show of an unknown call fails", func(t *testing.T) {
		if _, err := ingestctl(t, dsn, "calls", "show", "acme", "nope"); err == nil {
			t.Fatal("want an error")
		}
	})
}
