package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/audio"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
)

// AnalysisJobType is the AMQP type of an analysis job.
const AnalysisJobType = "connect.analysis.v1"

// AnalysisJobVersion is the version of the analysis job's format, which
// docs/ANALYSIS_JOB.md and its JSON Schema describe. Version 2 added the
// audio of each recording and the contact's language; a version only ever
// adds fields, so a consumer of an older one keeps working.
const AnalysisJobVersion = 2

// AnalysisJob is the message the speech-analytics platform consumes: which
// conversation, where its recordings are and what they hold, and a summary
// of its metadata.
type AnalysisJob struct {
	JobVersion int `json:"jobVersion"`
	JobSummary
	Recordings []AnalysisRecording `json:"recordings"`
}

// JobSummary is what every analysis job says of its conversation, speech or
// text: the fields sit at the top level of the job's JSON.
type JobSummary struct {
	TenantID            string     `json:"tenantId"`
	ContactID           string     `json:"contactId"`
	Channel             string     `json:"channel"`
	InitiationMethod    string     `json:"initiationMethod"`
	InitiationTimestamp *time.Time `json:"initiationTimestamp"`
	DisconnectTimestamp *time.Time `json:"disconnectTimestamp"`
	QueueName           string     `json:"queueName"`
	AgentUserID         string     `json:"agentUserId"`
	AgentUsername       string     `json:"agentUsername"`
	// Language is the contact's language as a BCP 47 tag, when the CTR or
	// its attributes give one.
	Language string `json:"language,omitempty"`
}

// AnalysisRecording is one recording object in MinIO.
type AnalysisRecording struct {
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	SizeBytes   int64  `json:"sizeBytes"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"contentType"`
	Participant string `json:"participant"`
	// Audio is what the recording holds, read from its header as it was
	// copied, and who speaks on which channel; absent for a recording
	// copied before version 2.
	Audio *AnalysisAudio `json:"audio,omitempty"`
}

// AnalysisAudio describes a recording's audio.
type AnalysisAudio struct {
	Codec          string          `json:"codec"`
	SampleRateHz   int             `json:"sampleRateHz"`
	Channels       int             `json:"channels"`
	BitsPerSample  int             `json:"bitsPerSample"`
	DurationMillis int64           `json:"durationMs"`
	ChannelRoles   []audio.Channel `json:"channelRoles"`
}

// analysisAudio is the job's view of a recording's format.
func analysisAudio(f *audio.Format) *AnalysisAudio {
	if f == nil {
		return nil
	}
	return &AnalysisAudio{Codec: f.Codec, SampleRateHz: f.SampleRateHz, Channels: f.Channels, BitsPerSample: f.BitsPerSample,
		DurationMillis: f.DurationMillis, ChannelRoles: audio.Channels(*f)}
}

// ChatAnalysisJobType is the AMQP type of a chat's analysis job, for text
// analysis; ChatAnalysisJobVersion the version of its format.
const (
	ChatAnalysisJobType    = "connect.analysis.chat.v1"
	ChatAnalysisJobVersion = 1
)

// ChatAnalysisJob is the message the text-analytics platform consumes for a
// chat: the conversation summary and where its transcripts are in MinIO.
type ChatAnalysisJob struct {
	JobVersion int `json:"jobVersion"`
	JobSummary
	Transcripts []AnalysisTranscript `json:"transcripts"`
}

// AnalysisTranscript is one chat transcript object in MinIO, in Amazon
// Connect's transcript format (Format names it).
type AnalysisTranscript struct {
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	SizeBytes   int64  `json:"sizeBytes"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"contentType"`
	Format      string `json:"format"`
}

// TranscriptFormat names Amazon Connect's chat transcript JSON.
const TranscriptFormat = "amazon-connect-chat-transcript-2019-08-26"

// analysisJob returns the AMQP type and body of a conversation's job: a
// chat's for text analysis, any other's for speech analysis, each naming
// the recordings (or transcripts) held in MinIO.
func analysisJob(c store.Conversation, recs []store.Recording) (string, []byte, error) {
	sum := JobSummary{
		TenantID: c.TenantID, ContactID: c.ContactID, Channel: c.Channel, InitiationMethod: c.InitiationMethod,
		InitiationTimestamp: c.InitiationTimestamp, DisconnectTimestamp: c.DisconnectTimestamp, QueueName: c.QueueName,
		AgentUserID: c.AgentUserID, AgentUsername: c.AgentUsername, Language: ctr.Language(c.CTR, c.Attributes),
	}
	if c.Channel == "CHAT" {
		job := ChatAnalysisJob{JobVersion: ChatAnalysisJobVersion, JobSummary: sum, Transcripts: []AnalysisTranscript{}}
		for _, r := range recs {
			if r.Held() && r.SizeBytes != nil {
				job.Transcripts = append(job.Transcripts, AnalysisTranscript{Bucket: r.ObjectBucket, Key: r.ObjectKey,
					SizeBytes: *r.SizeBytes, SHA256: r.SHA256, ContentType: r.ContentType, Format: TranscriptFormat})
			}
		}
		body, err := json.Marshal(job)
		return ChatAnalysisJobType, body, err
	}
	job := AnalysisJob{JobVersion: AnalysisJobVersion, JobSummary: sum, Recordings: []AnalysisRecording{}}
	for _, r := range recs {
		if !r.Held() || r.SizeBytes == nil {
			continue
		}
		job.Recordings = append(job.Recordings, AnalysisRecording{
			Bucket: r.ObjectBucket, Key: r.ObjectKey, SizeBytes: *r.SizeBytes, SHA256: r.SHA256,
			ContentType: r.ContentType, Participant: r.Participant, Audio: analysisAudio(r.Audio),
		})
	}
	body, err := json.Marshal(job)
	return AnalysisJobType, body, err
}

// EnqueueAnalysisInput names the conversation to enqueue.
type EnqueueAnalysisInput struct {
	TenantID  string
	ContactID string
}

// EnqueueAnalysisResult says whether this call enqueued it.
type EnqueueAnalysisResult struct {
	// Enqueued is false when an earlier attempt or run already had.
	Enqueued bool
}

// AnalysisMessageID is the ID of a conversation's analysis job: one per
// conversation and set of recordings, so the platform can recognise a
// duplicate and tell a re-analysis of a changed recording from it.
func AnalysisMessageID(tenantID, contactID, fingerprint string) string {
	return "analysis/" + tenantID + "/" + contactID + "/" + fingerprint
}

// Fingerprint identifies a set of recordings by their source locations, in
// any order.
func Fingerprint(locations []string) string {
	sorted := slices.Sorted(slices.Values(locations))
	h := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return hex.EncodeToString(h[:6])
}

// EnqueueAnalysis publishes the conversation's analysis job with a publisher
// confirm, then marks it enqueued in Postgres with the fingerprint of its
// recordings. A conversation already enqueued with the same recordings is
// not enqueued again; one whose recording changed is. Only a crash between
// the confirm and the mark can publish twice; the job's message ID is the
// same both times.
func (a *Activities) EnqueueAnalysis(ctx context.Context, in EnqueueAnalysisInput) (EnqueueAnalysisResult, error) {
	// An erased contact is never sent for analysis; an erasure that begins
	// while the job is on its way retracts it below (the erasure reads the
	// analysis mark, which this job may never get).
	if err := a.Erasures.Check(ctx, in.TenantID, in.ContactID); err != nil {
		return EnqueueAnalysisResult{}, classify(err)
	}
	c, recs, err := a.Conversations.Get(ctx, in.TenantID, in.ContactID)
	if err != nil {
		return EnqueueAnalysisResult{}, err
	}
	var locations []string
	for _, r := range recs {
		if r.Held() {
			locations = append(locations, r.SourceLocation)
		}
	}
	fp := Fingerprint(locations)
	if c.AnalysisEnqueuedAt != nil && c.AnalysisFingerprint == fp {
		return EnqueueAnalysisResult{Enqueued: false}, nil
	}
	typ, body, err := analysisJob(c, recs)
	if err != nil {
		return EnqueueAnalysisResult{}, fmt.Errorf("encode analysis job %s/%s: %w", in.TenantID, in.ContactID, err)
	}
	msg := queue.Message{
		ID: AnalysisMessageID(in.TenantID, in.ContactID, fp), Type: typ, Body: body, Timestamp: time.Now().UTC(),
		Headers: amqp.Table{"tenant_id": in.TenantID, "contact_id": in.ContactID},
	}
	if err := a.Publisher.PublishSeq(ctx, a.AnalysisQueue, slices.Values([]queue.Message{msg})); err != nil {
		return EnqueueAnalysisResult{}, fmt.Errorf("enqueue analysis of %s/%s: %w", in.TenantID, in.ContactID, err)
	}
	if err := a.Erasures.Check(ctx, in.TenantID, in.ContactID); err != nil {
		return EnqueueAnalysisResult{}, errors.Join(classify(err), a.retractErased(ctx, in.TenantID, in.ContactID))
	}
	first, err := a.Conversations.MarkEnqueued(ctx, in.TenantID, in.ContactID, fp)
	if err == nil && first {
		a.Metrics.enqueued(in.TenantID, c.DisconnectTimestamp)
	}
	if err != nil {
		return EnqueueAnalysisResult{}, err
	}
	return EnqueueAnalysisResult{Enqueued: first}, nil
}
