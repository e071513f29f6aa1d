package activities

import (
	"context"
	"encoding/json"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
)

// StoreConversationInput is a normalised conversation and the CTR it came
// from.
type StoreConversationInput struct {
	Conversation store.Conversation
	// CTR is the record, as the first workflow version passed it; when it
	// is empty, Ref names the stored version to read.
	CTR json.RawMessage `json:",omitempty"`
	Ref conversation.CTRRef
}

// StoreConversationResult says what the database now holds.
type StoreConversationResult struct {
	// Updated is false when a newer or equal CTR version was already stored.
	Updated bool
	// State is the conversation's stored state.
	State conversation.State
	// Enqueued is true when analysis was already enqueued.
	Enqueued bool
	// Copied lists the source locations already copied into MinIO.
	Copied []string
}

// StoreConversation upserts the conversation's metadata, keyed by tenant and
// ContactId: a newer LastUpdateTimestamp updates it, an older or equal one
// changes nothing. It returns what is already done, so a repeated or
// updated CTR does not copy or enqueue twice.
func (a *Activities) StoreConversation(ctx context.Context, in StoreConversationInput) (StoreConversationResult, error) {
	raw, err := a.ctrBytes(ctx, in.CTR, in.Ref)
	if err != nil {
		return StoreConversationResult{}, err
	}
	c := in.Conversation
	c.CTR = raw
	updated, err := a.Conversations.UpsertMetadata(ctx, c)
	if err != nil {
		return StoreConversationResult{}, classify(err)
	}
	stored, recs, err := a.Conversations.Get(ctx, c.TenantID, c.ContactID)
	if err != nil {
		return StoreConversationResult{}, err
	}
	res := StoreConversationResult{Updated: updated, State: stored.State, Enqueued: stored.AnalysisEnqueuedAt != nil}
	for _, r := range recs {
		if r.CopiedAt != nil {
			res.Copied = append(res.Copied, r.SourceLocation)
		}
	}
	return res, nil
}

// SetStateInput is a conversation's new state.
type SetStateInput struct {
	TenantID  string
	ContactID string
	State     conversation.State
	Detail    string
}

// SetState records a conversation's state in Postgres. A conversation that
// was never stored (its CTR was malformed) has no row to update, which is
// not an error.
func (a *Activities) SetState(ctx context.Context, in SetStateInput) error {
	return a.setState(ctx, in.TenantID, in.ContactID, in.State, in.Detail)
}
