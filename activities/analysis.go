package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/queue"
)

// AnalysisJobType is the AMQP type of an analysis job.
const AnalysisJobType = "connect.analysis.v1"

// AnalysisJob is the message the speech-analytics platform consumes: which
// conversation, where its recordings are, and a summary of its metadata.
type AnalysisJob struct {
	TenantID            string              `json:"tenantId"`
	ContactID           string              `json:"contactId"`
	Channel             string              `json:"channel"`
	InitiationMethod    string              `json:"initiationMethod"`
	InitiationTimestamp *time.Time          `json:"initiationTimestamp"`
	DisconnectTimestamp *time.Time          `json:"disconnectTimestamp"`
	QueueName           string              `json:"queueName"`
	AgentUserID         string              `json:"agentUserId"`
	AgentUsername       string              `json:"agentUsername"`
	Recordings          []AnalysisRecording `json:"recordings"`
}

// AnalysisRecording is one recording object in MinIO.
type AnalysisRecording struct {
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	SizeBytes   int64  `json:"sizeBytes"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"contentType"`
	Participant string `json:"participant"`
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
	job := AnalysisJob{
		TenantID: c.TenantID, ContactID: c.ContactID, Channel: c.Channel, InitiationMethod: c.InitiationMethod,
		InitiationTimestamp: c.InitiationTimestamp, DisconnectTimestamp: c.DisconnectTimestamp,
		QueueName: c.QueueName, AgentUserID: c.AgentUserID, AgentUsername: c.AgentUsername,
		Recordings: []AnalysisRecording{},
	}
	for _, r := range recs {
		if !r.Held() || r.SizeBytes == nil {
			continue
		}
		job.Recordings = append(job.Recordings, AnalysisRecording{
			Bucket: r.ObjectBucket, Key: r.ObjectKey, SizeBytes: *r.SizeBytes, SHA256: r.SHA256,
			ContentType: r.ContentType, Participant: r.Participant,
		})
	}
	body, err := json.Marshal(job)
	if err != nil {
		return EnqueueAnalysisResult{}, fmt.Errorf("encode analysis job %s/%s: %w", in.TenantID, in.ContactID, err)
	}
	msg := queue.Message{
		ID: AnalysisMessageID(in.TenantID, in.ContactID, fp), Type: AnalysisJobType, Body: body, Timestamp: time.Now().UTC(),
		Headers: amqp.Table{"tenant_id": in.TenantID, "contact_id": in.ContactID},
	}
	if err := a.Publisher.PublishSeq(ctx, a.AnalysisQueue, slices.Values([]queue.Message{msg})); err != nil {
		return EnqueueAnalysisResult{}, fmt.Errorf("enqueue analysis of %s/%s: %w", in.TenantID, in.ContactID, err)
	}
	first, err := a.Conversations.MarkEnqueued(ctx, in.TenantID, in.ContactID, fp)
	if err == nil && first {
		a.Metrics.enqueued(c.DisconnectTimestamp)
	}
	if err != nil {
		return EnqueueAnalysisResult{}, err
	}
	return EnqueueAnalysisResult{Enqueued: first}, nil
}
