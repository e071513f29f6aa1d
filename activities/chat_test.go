package activities_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/jobschema"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestChatTranscripts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 24, 9, 24, 0, 0, time.UTC)
	if _, err := f.acts.Conversations.UpsertMetadata(ctx, store.Conversation{
		TenantID: "acme", ContactID: "c-chat", LastUpdateTimestamp: start, Channel: "CHAT", CTR: json.RawMessage(`{}`),
		Attributes: map[string]string{"language": "fr-FR"},
	}); err != nil {
		t.Fatal(err)
	}
	copyChat := func(key string) error {
		_, err := f.env.ExecuteActivity(f.acts.CopyRecording, activities.CopyRecordingInput{
			TenantID: "acme", ContactID: "c-chat", Location: f.source + "/" + key, Participant: "AGENT",
			MediaType: activities.MediaTypeChat, Day: start, WaitUntil: time.Now().Add(time.Hour),
		})
		return err
	}

	t.Run("a transcript that is empty or no JSON object ends recording_empty", func(t *testing.T) {
		f.put(t, "connect/acme/ChatTranscripts/2026/11/24/empty.json", []byte("  \n"))
		if err := copyChat("connect/acme/ChatTranscripts/2026/11/24/empty.json"); errType(err) != activities.ErrTypeRecordingEmpty {
			t.Fatalf("%v, want %s", err, activities.ErrTypeRecordingEmpty)
		}
		c, _, err := f.acts.Conversations.Get(ctx, "acme", "c-chat")
		if err != nil || c.State != conversation.RecordingEmpty {
			t.Fatalf("state %s, %v", c.State, err)
		}
	})

	t.Run("a transcript is copied like a recording and enqueued for text analysis", func(t *testing.T) {
		key := ctrtest.TranscriptKey("acme", "c-chat", start)
		body := ctrtest.Transcript("arn:aws:connect:eu-west-2:111122223333:instance/i-1", "c-chat-0000", "jdoe", start)
		f.put(t, key, body)
		if err := copyChat(key); err != nil {
			t.Fatal(err)
		}
		if _, err := f.env.ExecuteActivity(f.acts.EnqueueAnalysis, activities.EnqueueAnalysisInput{TenantID: "acme", ContactID: "c-chat"}); err != nil {
			t.Fatal(err)
		}
		jobs := testenv.Drain(t, f.analysis, 5)
		if len(jobs) != 1 || jobs[0].Type != activities.ChatAnalysisJobType {
			t.Fatalf("%d jobs (type %v), want one %s", len(jobs), jobs, activities.ChatAnalysisJobType)
		}
		jobschema.Validate(t, jobschema.ChatJob, jobs[0].Body)
		var job activities.ChatAnalysisJob
		if err := json.Unmarshal(jobs[0].Body, &job); err != nil {
			t.Fatal(err)
		}
		if len(job.Transcripts) != 1 || job.Transcripts[0].SizeBytes != int64(len(body)) ||
			job.Transcripts[0].ContentType != "application/json" || job.Language != "fr-FR" {
			t.Errorf("job %+v", job)
		}
	})
}
