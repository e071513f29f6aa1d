package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectingest/connect-ingest/internal/audio"
	"github.com/connectingest/connect-ingest/internal/conversation"
)

// Conversation is one Amazon Connect contact as connect-ingest stores it:
// the newest CTR version seen, normalised.
type Conversation struct {
	TenantID            string             `json:"tenantId"`
	ContactID           string             `json:"contactId"`
	LastUpdateTimestamp time.Time          `json:"lastUpdateTimestamp"`
	State               conversation.State `json:"state"`
	StateDetail         string             `json:"stateDetail"`
	Channel             string             `json:"channel"`
	InitiationMethod    string             `json:"initiationMethod"`
	InitiationTimestamp *time.Time         `json:"initiationTimestamp"`
	DisconnectTimestamp *time.Time         `json:"disconnectTimestamp"`
	QueueName           string             `json:"queueName"`
	AgentARN            string             `json:"agentArn"`
	AgentUserID         string             `json:"agentUserId"`
	AgentUsername       string             `json:"agentUsername"`
	CustomerEndpoint    string             `json:"customerEndpoint"`
	SystemEndpoint      string             `json:"systemEndpoint"`
	DisconnectReason    string             `json:"disconnectReason"`
	InitialContactID    string             `json:"initialContactId"`
	PreviousContactID   string             `json:"previousContactId"`
	NextContactID       string             `json:"nextContactId"`
	Attributes          map[string]string  `json:"attributes"`
	CTR                 json.RawMessage    `json:"-"`
	AnalysisEnqueuedAt  *time.Time         `json:"analysisEnqueuedAt"`
	// AnalysisFingerprint identifies the recordings the last analysis job
	// carried.
	AnalysisFingerprint string    `json:"-"`
	CreatedAt           time.Time `json:"createdAt"`
	UpdatedAt           time.Time `json:"updatedAt"`
	// Agent is the synced agent AgentUserID names; nil until the agent
	// sync has seen that user.
	Agent *LinkedAgent `json:"agent"`
	// Origin is where the conversation's first CTR version came from:
	// firehose, or reconciled from Connect's contact API.
	Origin string `json:"origin"`
}

// LinkedAgent is what a conversation shows of its agent.
type LinkedAgent struct {
	UserID    string `json:"userId"`
	Username  string `json:"username"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	Active    bool   `json:"active"`
}

// Recording is one recording of a conversation: where Connect stored it and,
// once copied, where it lives in MinIO.
type Recording struct {
	TenantID       string     `json:"-"`
	ContactID      string     `json:"-"`
	SourceLocation string     `json:"sourceLocation"`
	Participant    string     `json:"participant"`
	MediaType      string     `json:"mediaType"`
	ObjectBucket   string     `json:"objectBucket"`
	ObjectKey      string     `json:"objectKey"`
	SizeBytes      *int64     `json:"sizeBytes"`
	ContentType    string     `json:"contentType"`
	SHA256         string     `json:"sha256"`
	CopiedAt       *time.Time `json:"copiedAt"`
	// DeletedAt is set when Connect deleted the recording (or an update no
	// longer listed it) and its copy was removed; DeletionReason is
	// Connect's.
	DeletedAt      *time.Time `json:"deletedAt,omitempty"`
	DeletionReason string     `json:"deletionReason,omitempty"`
	// Audio is what the recording holds, read as it was copied; nil for
	// a recording that is not audio or was copied before it was read.
	Audio *audio.Format `json:"audio,omitempty"`
}

// Held reports whether the recording's copy is in MinIO: copied, and not
// removed since because Connect deleted it.
func (r Recording) Held() bool {
	return r.CopiedAt != nil && r.DeletedAt == nil
}

// Conversations reads and writes conversations and their recordings.
type Conversations struct {
	pool *pgxpool.Pool
}

// NewConversations returns a Conversations over pool.
func NewConversations(pool *pgxpool.Pool) *Conversations {
	return &Conversations{pool: pool}
}

// UpsertMetadata stores c's metadata when it is newer than what is stored:
// Connect re-sends CTRs and sends updated versions later, so an older or
// equal LastUpdateTimestamp changes nothing. The state and the analysis mark
// are left alone on update; they belong to the workflow. It reports whether
// the row was written.
func (s *Conversations) UpsertMetadata(ctx context.Context, c Conversation) (bool, error) {
	attrs, err := json.Marshal(nonNil(c.Attributes))
	if err != nil {
		return false, fmt.Errorf("encode attributes of %s: %w", c.ContactID, err)
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO conversations (tenant_id, contact_id, last_update_timestamp, state, channel, initiation_method,
			initiation_timestamp, disconnect_timestamp, queue_name, agent_arn, agent_user_id, agent_username,
			customer_endpoint, system_endpoint, disconnect_reason, initial_contact_id, previous_contact_id,
			next_contact_id, attributes, ctr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		ON CONFLICT (tenant_id, contact_id) DO UPDATE SET
			last_update_timestamp = EXCLUDED.last_update_timestamp, channel = EXCLUDED.channel,
			initiation_method = EXCLUDED.initiation_method, initiation_timestamp = EXCLUDED.initiation_timestamp,
			disconnect_timestamp = EXCLUDED.disconnect_timestamp, queue_name = EXCLUDED.queue_name,
			agent_arn = EXCLUDED.agent_arn, agent_user_id = EXCLUDED.agent_user_id,
			agent_username = EXCLUDED.agent_username, customer_endpoint = EXCLUDED.customer_endpoint,
			system_endpoint = EXCLUDED.system_endpoint, disconnect_reason = EXCLUDED.disconnect_reason,
			initial_contact_id = EXCLUDED.initial_contact_id, previous_contact_id = EXCLUDED.previous_contact_id,
			next_contact_id = EXCLUDED.next_contact_id, attributes = EXCLUDED.attributes, ctr = EXCLUDED.ctr,
			updated_at = now()
		WHERE conversations.last_update_timestamp < EXCLUDED.last_update_timestamp`,
		c.TenantID, c.ContactID, c.LastUpdateTimestamp, conversation.Received, c.Channel, c.InitiationMethod,
		c.InitiationTimestamp, c.DisconnectTimestamp, c.QueueName, c.AgentARN, c.AgentUserID, c.AgentUsername,
		c.CustomerEndpoint, c.SystemEndpoint, c.DisconnectReason, c.InitialContactID, c.PreviousContactID,
		c.NextContactID, attrs, c.CTR)
	if err != nil {
		return false, fmt.Errorf("upsert conversation %s/%s: %w", c.TenantID, c.ContactID, err)
	}
	return tag.RowsAffected() == 1, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// SetState records the conversation's state and why.
func (s *Conversations) SetState(ctx context.Context, tenantID, contactID string, state conversation.State, detail string) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE conversations SET state = $3, state_detail = $4, updated_at = now() WHERE tenant_id = $1 AND contact_id = $2`,
		tenantID, contactID, state, detail)
	if err != nil {
		return fmt.Errorf("set state of %s/%s: %w", tenantID, contactID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("conversation %s/%s: %w", tenantID, contactID, ErrNotFound)
	}
	return nil
}

// UpsertRecording stores a recording's source and, when copied, its object.
func (s *Conversations) UpsertRecording(ctx context.Context, r Recording) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO recordings (tenant_id, contact_id, source_location, participant, media_type, object_bucket,
			object_key, size_bytes, content_type, sha256, copied_at, audio)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (tenant_id, contact_id, source_location) DO UPDATE SET
			participant = EXCLUDED.participant, media_type = EXCLUDED.media_type,
			object_bucket = EXCLUDED.object_bucket, object_key = EXCLUDED.object_key,
			size_bytes = EXCLUDED.size_bytes, content_type = EXCLUDED.content_type,
			sha256 = EXCLUDED.sha256, copied_at = EXCLUDED.copied_at, audio = EXCLUDED.audio`,
		r.TenantID, r.ContactID, r.SourceLocation, r.Participant, r.MediaType, r.ObjectBucket,
		r.ObjectKey, r.SizeBytes, r.ContentType, r.SHA256, r.CopiedAt, r.Audio)
	if err != nil {
		return fmt.Errorf("upsert recording %s of %s/%s: %w", r.SourceLocation, r.TenantID, r.ContactID, err)
	}
	return nil
}

// MarkRecordingDeleted records that a recording's copy was removed because
// Connect deleted it, with Connect's reason. A recording marked before
// keeps its first time and reason.
func (s *Conversations) MarkRecordingDeleted(ctx context.Context, tenantID, contactID, location, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE recordings SET deleted_at = coalesce(deleted_at, now()),
			deletion_reason = CASE WHEN deleted_at IS NULL THEN $4 ELSE deletion_reason END
		WHERE tenant_id = $1 AND contact_id = $2 AND source_location = $3`,
		tenantID, contactID, location, storable(clip(reason, maxDetailBytes)))
	if err != nil {
		return fmt.Errorf("mark recording %s of %s/%s deleted: %w", location, tenantID, contactID, err)
	}
	return nil
}

// MarkEnqueued records that the conversation was enqueued for analysis with
// the recordings that fingerprint names. It reports false when those were
// already enqueued, so a retried activity can tell.
func (s *Conversations) MarkEnqueued(ctx context.Context, tenantID, contactID, fingerprint string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE conversations SET analysis_enqueued_at = now(), analysis_fingerprint = $4, state = $3,
			state_detail = '', updated_at = now()
		WHERE tenant_id = $1 AND contact_id = $2
			AND (analysis_enqueued_at IS NULL OR analysis_fingerprint <> $4)`,
		tenantID, contactID, conversation.Enqueued, fingerprint)
	if err != nil {
		return false, fmt.Errorf("mark %s/%s enqueued: %w", tenantID, contactID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Get returns one conversation and its recordings.
func (s *Conversations) Get(ctx context.Context, tenantID, contactID string) (Conversation, []Recording, error) {
	rows, err := s.pool.Query(ctx, selectConversations+` WHERE c.tenant_id = $1 AND c.contact_id = $2`, tenantID, contactID)
	if err != nil {
		return Conversation{}, nil, fmt.Errorf("get conversation %s/%s: %w", tenantID, contactID, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanConversation)
	if errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, nil, fmt.Errorf("conversation %s/%s: %w", tenantID, contactID, ErrNotFound)
	}
	if err != nil {
		return Conversation{}, nil, fmt.Errorf("get conversation %s/%s: %w", tenantID, contactID, err)
	}
	recs, err := s.recordings(ctx, tenantID, []string{contactID})
	if err != nil {
		return Conversation{}, nil, err
	}
	return c, recs[contactID], nil
}

// selectConversations reads conversations (as c) with the agent their
// Agent.ARN names, joined when read, so that an agent synced after its calls
// arrived links to them too.
const selectConversations = `
	SELECT c.tenant_id, c.contact_id, c.last_update_timestamp, c.state, c.state_detail, c.channel, c.initiation_method,
		c.initiation_timestamp, c.disconnect_timestamp, c.queue_name, c.agent_arn, c.agent_user_id, c.agent_username,
		c.customer_endpoint, c.system_endpoint, c.disconnect_reason, c.initial_contact_id, c.previous_contact_id,
		c.next_contact_id, c.attributes, c.ctr, c.analysis_enqueued_at, c.analysis_fingerprint, c.created_at, c.updated_at,
		a.user_id, a.username, a.first_name, a.last_name, a.email, a.active,
		coalesce((SELECT v.origin FROM ctr_versions v WHERE v.tenant_id = c.tenant_id AND v.contact_id = c.contact_id
			ORDER BY v.received_at LIMIT 1), 'firehose')
	FROM conversations c
	LEFT JOIN agents a ON a.tenant_id = c.tenant_id AND a.user_id = c.agent_user_id AND c.agent_user_id <> ''`

func scanConversation(row pgx.CollectableRow) (Conversation, error) {
	var c Conversation
	var attrs []byte
	var agentID, username, first, last, email *string
	var active *bool
	err := row.Scan(
		&c.TenantID, &c.ContactID, &c.LastUpdateTimestamp, &c.State, &c.StateDetail, &c.Channel, &c.InitiationMethod,
		&c.InitiationTimestamp, &c.DisconnectTimestamp, &c.QueueName, &c.AgentARN, &c.AgentUserID, &c.AgentUsername,
		&c.CustomerEndpoint, &c.SystemEndpoint, &c.DisconnectReason, &c.InitialContactID, &c.PreviousContactID,
		&c.NextContactID, &attrs, &c.CTR, &c.AnalysisEnqueuedAt, &c.AnalysisFingerprint, &c.CreatedAt, &c.UpdatedAt,
		&agentID, &username, &first, &last, &email, &active, &c.Origin)
	if err != nil {
		return Conversation{}, err
	}
	if agentID != nil {
		c.Agent = &LinkedAgent{UserID: *agentID, Username: *username, FirstName: *first, LastName: *last, Email: *email, Active: *active}
	}
	if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
		return Conversation{}, fmt.Errorf("decode attributes of %s/%s: %w", c.TenantID, c.ContactID, err)
	}
	return c, nil
}

// Recordings returns one conversation's recordings, without its row: what
// a copy needs to know whether an earlier attempt already stored one.
func (s *Conversations) Recordings(ctx context.Context, tenantID, contactID string) ([]Recording, error) {
	recs, err := s.recordings(ctx, tenantID, []string{contactID})
	if err != nil {
		return nil, err
	}
	return recs[contactID], nil
}

// recordings returns the recordings of one tenant's contacts, by contact ID,
// in one query.
func (s *Conversations) recordings(ctx context.Context, tenantID string, contactIDs []string) (map[string][]Recording, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT tenant_id, contact_id, source_location, participant, media_type, object_bucket, object_key,
			size_bytes, content_type, sha256, copied_at, deleted_at, deletion_reason, audio
		FROM recordings WHERE tenant_id = $1 AND contact_id = ANY($2) ORDER BY contact_id, source_location`, tenantID, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("get recordings of %s: %w", tenantID, err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Recording, error) {
		var r Recording
		err := row.Scan(&r.TenantID, &r.ContactID, &r.SourceLocation, &r.Participant, &r.MediaType, &r.ObjectBucket,
			&r.ObjectKey, &r.SizeBytes, &r.ContentType, &r.SHA256, &r.CopiedAt, &r.DeletedAt, &r.DeletionReason, &r.Audio)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("get recordings of %s: %w", tenantID, err)
	}
	out := map[string][]Recording{}
	for _, r := range recs {
		out[r.ContactID] = append(out[r.ContactID], r)
	}
	return out, nil
}

// ConversationFilter selects conversations. Zero fields select everything.
type ConversationFilter struct {
	TenantID string
	State    conversation.State
	// EndedBefore keeps calls that ended (or, without an end, began or were
	// last updated) before it.
	EndedBefore time.Time
	Limit       int
}

// List returns conversations, most recently updated first, with their
// recordings keyed by tenant/contact: two queries per tenant listed.
func (s *Conversations) List(ctx context.Context, f ConversationFilter) ([]Conversation, map[string][]Recording, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, selectConversations+`
		WHERE ($1 = '' OR c.tenant_id = $1) AND ($2 = '' OR c.state = $2)
			AND ($4::timestamptz IS NULL
				OR coalesce(c.disconnect_timestamp, c.initiation_timestamp, c.last_update_timestamp) < $4)
		ORDER BY c.updated_at DESC, c.contact_id LIMIT $3`, f.TenantID, f.State, f.Limit, nilIfZero(f.EndedBefore))
	if err != nil {
		return nil, nil, fmt.Errorf("list conversations: %w", err)
	}
	convs, err := pgx.CollectRows(rows, scanConversation)
	if err != nil {
		return nil, nil, fmt.Errorf("list conversations: %w", err)
	}
	byTenant := map[string][]string{}
	for _, c := range convs {
		byTenant[c.TenantID] = append(byTenant[c.TenantID], c.ContactID)
	}
	recs := map[string][]Recording{}
	for tenant, contacts := range byTenant {
		got, err := s.recordings(ctx, tenant, contacts)
		if err != nil {
			return nil, nil, err
		}
		for contact, rs := range got {
			recs[tenant+"/"+contact] = rs
		}
	}
	return convs, recs, nil
}

// Stuck counts, by tenant, the conversations in a state that is not final
// whose last change is older than after: calls an operator should look at.
func (s *Conversations) Stuck(ctx context.Context, after time.Duration) (map[string]int, error) {
	var open []string
	for _, st := range conversation.States() {
		if !st.Final() {
			open = append(open, string(st))
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, count(*) FROM conversations
		WHERE state = ANY($1) AND updated_at < now() - $2::interval GROUP BY tenant_id`, open, after)
	if err != nil {
		return nil, fmt.Errorf("count stuck conversations: %w", err)
	}
	out := map[string]int{}
	var tenant string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&tenant, &n}, func() error {
		out[tenant] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count stuck conversations: %w", err)
	}
	return out, nil
}

func nilIfZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
