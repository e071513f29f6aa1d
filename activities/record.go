package activities

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
)

// RecordCTRInput is the claim check of one CTR version: where it is stored,
// never what it says.
type RecordCTRInput struct {
	Ref conversation.CTRRef
}

// RecordCTRResult is what the workflow decides on, and nothing else: no row,
// no phone number, no attribute.
type RecordCTRResult struct {
	// State is the conversation's state after this step: enqueued (done
	// before, nothing new), no_recording, copying or stored.
	State conversation.State
	// Channel and AgentUsername feed the search attributes.
	Channel       string
	AgentUsername string
	// ToCopy lists the recordings not copied yet; empty when State is
	// final.
	ToCopy []RecordingRef
	// ToRemove lists the copies to remove because Connect deleted their
	// recording, or the newest version no longer lists it.
	ToRemove []RemovedRecording `json:",omitempty"`
	// Day is the day of the call, for object keys.
	Day time.Time
}

// RecordCTR is a conversation's first step for each CTR version: it reads
// the version from the claim-check store, parses and normalises it, links
// the agent, upserts the conversation and decides what is left to do, with
// the state that decision implies written in the same step. It always
// decides from the newest version stored, so a version that arrives after a
// newer one never copies or analyses anything.
func (a *Activities) RecordCTR(ctx context.Context, in RecordCTRInput) (RecordCTRResult, error) {
	raw, err := a.ctrBytes(ctx, nil, in.Ref)
	if isErrType(err, ErrTypeCTRVersionMissing) && a.erased(ctx, in.Ref.TenantID, in.Ref.ContactID) {
		// Erased while this run waited: nothing is stored, nothing is done.
		return RecordCTRResult{State: conversation.Erased}, nil
	}
	if err != nil {
		return RecordCTRResult{}, err
	}
	norm, err := a.NormalizeCTR(ctx, NormalizeCTRInput{TenantID: in.Ref.TenantID, CTR: raw})
	if err != nil {
		return RecordCTRResult{}, err
	}
	conv := norm.Conversation
	conv.CTR = raw
	_, err = a.Conversations.UpsertMetadata(ctx, conv)
	if store.IsErased(err) {
		// Its erasure began while this run worked: Postgres refuses to
		// store it again, and nothing more is done.
		return RecordCTRResult{State: conversation.Erased}, nil
	}
	if err != nil {
		return RecordCTRResult{}, classify(err)
	}
	stored, recs, err := a.Conversations.Get(ctx, conv.TenantID, conv.ContactID)
	if err != nil {
		return RecordCTRResult{}, err
	}
	if stored.LastUpdateTimestamp.After(conv.LastUpdateTimestamp) {
		// A newer version is stored: decide from it, never from this one.
		if norm, err = a.NormalizeCTR(ctx, NormalizeCTRInput{TenantID: conv.TenantID, CTR: stored.CTR}); err != nil {
			return RecordCTRResult{}, err
		}
	}
	res := decide(norm, stored, recs)
	if res.State != stored.State {
		detail := ""
		switch {
		case res.State == conversation.NoRecording && len(res.ToRemove) > 0:
			detail = "recording deleted: " + res.ToRemove[0].Reason
		case res.State == conversation.NoRecording:
			detail = norm.NoAudioReason
		}
		if err := a.setState(ctx, conv.TenantID, conv.ContactID, res.State, detail); err != nil {
			return RecordCTRResult{}, err
		}
	}
	return res, nil
}

// erased reports whether the contact has a tombstone.
func (a *Activities) erased(ctx context.Context, tenantID, contactID string) bool {
	return store.IsErased(a.Erasures.Check(ctx, tenantID, contactID))
}

// ctrBytes returns a CTR version's bytes: inline when a first-version run
// passed them, else read from the claim-check store.
func (a *Activities) ctrBytes(ctx context.Context, inline []byte, ref conversation.CTRRef) ([]byte, error) {
	// An absent CTR can reach here as JSON null: a nil json.RawMessage
	// encodes as null in activity inputs scheduled before omitempty.
	if t := bytes.TrimSpace(inline); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		return inline, nil
	}
	raw, err := a.CTRVersions.Get(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, permanent(ErrTypeCTRVersionMissing, err)
	}
	return raw, err
}

// decide says what is left to do for a conversation: norm is its newest
// version normalised, stored and recs what Postgres holds. It is pure, so
// its rules are tested directly.
func decide(norm NormalizeCTRResult, stored store.Conversation, recs []store.Recording) RecordCTRResult {
	res := RecordCTRResult{Channel: norm.Conversation.Channel, AgentUsername: norm.Conversation.AgentUsername, Day: norm.Day}
	// done are the locations copied, or removed since: a deleted
	// recording is never copied again.
	var done []string
	kept := 0
	for _, r := range recs {
		if r.CopiedAt == nil && r.DeletedAt == nil {
			continue
		}
		done = append(done, r.SourceLocation)
		if !r.Held() {
			continue
		}
		reason, deleted := norm.Deleted[r.SourceLocation]
		switch {
		case deleted:
		case !slices.Contains(norm.Listed, r.SourceLocation) && norm.DeletedUnlisted != "":
			reason = norm.DeletedUnlisted
		case !slices.Contains(norm.Listed, r.SourceLocation):
			reason = "no longer listed in the contact's CTR"
		default:
			kept++
			continue
		}
		res.ToRemove = append(res.ToRemove, RemovedRecording{Location: r.SourceLocation, Reason: reason})
	}
	for _, r := range norm.Recordings {
		if !slices.Contains(done, r.Location) {
			res.ToCopy = append(res.ToCopy, r)
		}
	}
	switch {
	case len(res.ToRemove) > 0 && kept == 0 && len(res.ToCopy) == 0:
		// Every copy is removed and nothing new is left to copy: the
		// conversation has no recording any more.
		res.State = conversation.NoRecording
	case stored.AnalysisEnqueuedAt != nil && len(res.ToCopy) == 0:
		// Analysed already, and the update brings no recording not yet
		// copied: the newer metadata is stored, nothing else happens.
		res.State, res.ToCopy = conversation.Enqueued, nil
	case !norm.Analysable:
		res.State, res.ToCopy = conversation.NoRecording, nil
	case len(res.ToCopy) > 0:
		res.State = conversation.Copying
	default:
		res.State = conversation.Stored
	}
	return res
}

// setState records a conversation's state in Postgres and counts the final
// ones. A conversation that was never stored has no row to update, which is
// not an error.
func (a *Activities) setState(ctx context.Context, tenantID, contactID string, state conversation.State, detail string) error {
	err := a.Conversations.SetState(ctx, tenantID, contactID, state, detail)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return classify(err)
	}
	a.Metrics.stateSet(tenantID, state)
	return nil
}
