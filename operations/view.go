package operations

import (
	"fmt"
	"net/url"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/workflows"
)

// View is the stable JSON form of a conversation, documented in the README
// and in the admin API's OpenAPI description. Fields are added, never
// renamed or removed.
type View struct {
	TenantID            string             `json:"tenantId"`
	ContactID           string             `json:"contactId"`
	State               conversation.State `json:"state"`
	StateDetail         string             `json:"stateDetail"`
	Channel             string             `json:"channel"`
	InitiationMethod    string             `json:"initiationMethod"`
	QueueName           string             `json:"queueName"`
	AgentUsername       string             `json:"agentUsername"`
	AgentUserID         string             `json:"agentUserId"`
	Agent               *store.LinkedAgent `json:"agent"`
	InitiationTimestamp *time.Time         `json:"initiationTimestamp"`
	DisconnectTimestamp *time.Time         `json:"disconnectTimestamp"`
	LastUpdateTimestamp *time.Time         `json:"lastUpdateTimestamp"`
	InitialContactID    string             `json:"initialContactId"`
	PreviousContactID   string             `json:"previousContactId"`
	NextContactID       string             `json:"nextContactId"`
	// Origin is where the first CTR came from: firehose, or reconciled
	// from Connect's contact API; empty without a stored conversation.
	Origin             string          `json:"origin"`
	AnalysisEnqueuedAt *time.Time      `json:"analysisEnqueuedAt"`
	Recordings         []RecordingView `json:"recordings"`
	WorkflowID         string          `json:"workflowId"`
	TemporalURL        string          `json:"temporalUrl"`
	UpdatedAt          *time.Time      `json:"updatedAt"`
	// Workflow is the latest run; null where it was not read (plain
	// listings) or Temporal no longer has it.
	Workflow *WorkflowView `json:"workflow"`
	// Stuck says why a running conversation is stuck; empty when it is not.
	Stuck string `json:"stuck"`
	// Erasure is the tombstone of an erased contact (or one being
	// erased); null otherwise.
	Erasure *ErasureView `json:"erasure"`
}

// ErasureView is a contact's tombstone in View.
type ErasureView struct {
	Reason        string     `json:"reason"`
	RequestedBy   string     `json:"requestedBy"`
	RequestedAt   time.Time  `json:"requestedAt"`
	ErasedAt      *time.Time `json:"erasedAt"`
	RefusedCTRs   int64      `json:"refusedCtrs"`
	LastRefusedAt *time.Time `json:"lastRefusedAt"`
}

// RecordingView is one recording in View.
type RecordingView struct {
	SourceLocation string     `json:"sourceLocation"`
	Participant    string     `json:"participant"`
	Bucket         string     `json:"bucket"`
	Key            string     `json:"key"`
	SizeBytes      *int64     `json:"sizeBytes"`
	SHA256         string     `json:"sha256"`
	CopiedAt       *time.Time `json:"copiedAt"`
	// DeletedAt is set when Connect deleted the recording and its copy
	// was removed, for DeletionReason.
	DeletedAt      *time.Time `json:"deletedAt"`
	DeletionReason string     `json:"deletionReason"`
}

// WorkflowView is the latest run in View.
type WorkflowView struct {
	RunID             string                `json:"runId"`
	Status            string                `json:"status"`
	StartTime         time.Time             `json:"startTime"`
	CloseTime         *time.Time            `json:"closeTime"`
	AgeSeconds        int64                 `json:"ageSeconds"`
	PendingActivities []PendingActivityView `json:"pendingActivities"`
	LastFailure       string                `json:"lastFailure"`
}

// PendingActivityView is one pending activity in WorkflowView.
type PendingActivityView struct {
	Type        string     `json:"type"`
	State       string     `json:"state"`
	Attempt     int32      `json:"attempt"`
	LastFailure string     `json:"lastFailure"`
	NextAttempt *time.Time `json:"nextAttempt"`
}

// Links builds the Temporal UI links of views.
type Links struct {
	TemporalUI string
	Namespace  string
}

// WorkflowURL links to a workflow in the Temporal UI through a visibility
// query, so that the link finds its latest run.
func (l Links) WorkflowURL(workflowID string) string {
	q := url.QueryEscape(fmt.Sprintf("WorkflowId=%q", workflowID))
	return fmt.Sprintf("%s/namespaces/%s/workflows?query=%s", l.TemporalUI, url.PathEscape(l.Namespace), q)
}

// View returns the call's stable JSON form.
func (s *Service) View(c Call) View {
	links := s.Links
	id := workflows.ConversationWorkflowID(c.TenantID, c.ContactID)
	v := View{TenantID: c.TenantID, ContactID: c.ContactID, State: c.State(), Recordings: []RecordingView{},
		WorkflowID: id, TemporalURL: links.WorkflowURL(id)}
	if cv := c.Conversation; cv != nil {
		lu, upd := cv.LastUpdateTimestamp, cv.UpdatedAt
		v.StateDetail, v.Channel, v.InitiationMethod, v.QueueName = cv.StateDetail, cv.Channel, cv.InitiationMethod, cv.QueueName
		v.AgentUsername, v.AgentUserID, v.Agent = cv.AgentUsername, cv.AgentUserID, cv.Agent
		v.InitiationTimestamp, v.DisconnectTimestamp, v.LastUpdateTimestamp = cv.InitiationTimestamp, cv.DisconnectTimestamp, &lu
		v.InitialContactID, v.PreviousContactID, v.NextContactID = cv.InitialContactID, cv.PreviousContactID, cv.NextContactID
		v.AnalysisEnqueuedAt, v.UpdatedAt, v.Origin = cv.AnalysisEnqueuedAt, &upd, cv.Origin
	}
	for _, r := range c.Recordings {
		v.Recordings = append(v.Recordings, RecordingView{
			SourceLocation: r.SourceLocation, Participant: r.Participant, Bucket: r.ObjectBucket, Key: r.ObjectKey,
			SizeBytes: r.SizeBytes, SHA256: r.SHA256, CopiedAt: r.CopiedAt, DeletedAt: r.DeletedAt, DeletionReason: r.DeletionReason,
		})
	}
	if e := c.Erasure; e != nil {
		v.Erasure = &ErasureView{Reason: e.Reason, RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt, ErasedAt: e.ErasedAt,
			RefusedCTRs: e.RefusedCount, LastRefusedAt: e.LastRefusedAt}
	}
	if w := c.Workflow; w != nil {
		now := s.now()
		wv := &WorkflowView{RunID: w.RunID, Status: w.Status, StartTime: w.StartTime, CloseTime: w.CloseTime,
			AgeSeconds: int64(c.Age(now) / time.Second), PendingActivities: []PendingActivityView{}, LastFailure: w.LastFailure}
		for _, p := range w.Pending {
			wv.PendingActivities = append(wv.PendingActivities, PendingActivityView{
				Type: p.Type, State: p.State, Attempt: p.Attempt, LastFailure: p.LastFailure, NextAttempt: p.NextAttempt,
			})
		}
		v.Workflow = wv
		_, v.Stuck = s.Stuck(c, now)
	}
	return v
}
