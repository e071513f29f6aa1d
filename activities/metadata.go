package activities

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/store"
)

// LegacyNormalizeCTRName is the name NormalizeCTR had as an activity type
// before it was renamed. Register registers it under both names.
const LegacyNormalizeCTRName = "FetchMetadata"

// NormalizeCTRInput is one CTR version of one tenant's contact.
type NormalizeCTRInput struct {
	TenantID string
	// CTR is the record, as the first workflow version passed it; when it
	// is empty, Ref names the stored version to read.
	CTR json.RawMessage `json:",omitempty"`
	Ref conversation.CTRRef
}

// RecordingRef is a recording worth copying: stored in S3, audio, available.
type RecordingRef struct {
	Location    string
	Participant string
	MediaType   string
}

// NormalizeCTRResult is the CTR normalised into a conversation.
type NormalizeCTRResult struct {
	Conversation store.Conversation
	Recordings   []RecordingRef
	// Analysable is false for contacts with nothing to analyse (a task, a
	// chat without a transcript, supervisor monitoring, recording disabled
	// or deleted, voicemail in Kinesis Video Streams); NoAudioReason says
	// which. A chat's recording is its transcript.
	Analysable    bool
	NoAudioReason string
	// Day is the day of the call, for object keys.
	Day time.Time
	// Listed is every recording location the CTR names, whatever its
	// status; Deleted maps those Connect marked DELETED to its
	// DeletionReason. A copy whose location is deleted or no longer
	// listed is removed.
	Listed  []string          `json:",omitempty"`
	Deleted map[string]string `json:",omitempty"`
	// DeletedUnlisted is the DeletionReason of a DELETED recording that
	// names no location.
	DeletedUnlisted string `json:",omitempty"`
}

// NormalizeCTR parses a CTR, normalises it into connect-ingest's
// conversation model and links the agent to a synced agent where one
// exists. A CTR that cannot be decoded fails with ErrTypeMalformedCTR,
// which retrying cannot fix.
//
// Until version 1 of the workflows' "normalize-ctr" change it was
// registered as FetchMetadata (LegacyNormalizeCTRName); runs that started
// then still schedule it by that name.
func (a *Activities) NormalizeCTR(ctx context.Context, in NormalizeCTRInput) (NormalizeCTRResult, error) {
	raw, err := a.ctrBytes(ctx, in.CTR, in.Ref)
	if err != nil {
		return NormalizeCTRResult{}, err
	}
	c, err := ctr.Parse(raw)
	if err != nil {
		return NormalizeCTRResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeMalformedCTR, err)
	}
	res := Normalize(in.TenantID, c)
	if id := res.Conversation.AgentUserID; id != "" {
		agent, err := a.Agents.Get(ctx, in.TenantID, id)
		switch {
		case err == nil:
			if res.Conversation.AgentUsername == "" {
				res.Conversation.AgentUsername = agent.Username
			}
		case !errors.Is(err, store.ErrNotFound):
			return NormalizeCTRResult{}, err
		}
	}
	return res, nil
}

// Normalize maps a CTR onto the conversation model. It is pure, so the
// rules below are tested directly.
func Normalize(tenantID string, c ctr.CTR) NormalizeCTRResult {
	conv := store.Conversation{
		TenantID: tenantID, ContactID: c.ContactID, LastUpdateTimestamp: c.LastUpdateTimestamp.UTC(),
		State: conversation.Received, Channel: c.Channel, InitiationMethod: c.InitiationMethod,
		InitiationTimestamp: c.InitiationTimestamp, DisconnectTimestamp: c.DisconnectTimestamp,
		DisconnectReason: c.DisconnectReason, InitialContactID: c.InitialContactID,
		PreviousContactID: c.PreviousContactID, NextContactID: c.NextContactID, Attributes: c.Attributes,
	}
	if c.Queue != nil {
		conv.QueueName = c.Queue.Name
	}
	if c.Agent != nil {
		conv.AgentARN, conv.AgentUsername = c.Agent.ARN, c.Agent.Username
		conv.AgentUserID = awsx.AgentUserID(c.Agent.ARN)
	}
	if c.CustomerEndpoint != nil {
		conv.CustomerEndpoint = c.CustomerEndpoint.Address
	}
	if c.SystemEndpoint != nil {
		conv.SystemEndpoint = c.SystemEndpoint.Address
	}
	res := NormalizeCTRResult{Conversation: conv, Day: c.LastUpdateTimestamp.UTC()}
	res.Listed, res.Deleted, res.DeletedUnlisted = listed(c)
	if c.InitiationTimestamp != nil {
		res.Day = c.InitiationTimestamp.UTC()
	}

	switch {
	case c.Channel == "CHAT":
		res.Recordings, res.NoAudioReason = transcripts(c)
		res.Analysable = len(res.Recordings) > 0
		return res
	case c.Channel != "" && c.Channel != "VOICE":
		res.NoAudioReason = "channel " + c.Channel + " has no call audio"
		return res
	case c.InitiationMethod == "MONITOR":
		res.NoAudioReason = "supervisor monitoring contact"
		return res
	}
	res.Recordings, res.NoAudioReason = recordings(c)
	res.Analysable = len(res.Recordings) > 0
	return res
}

// listed returns every recording location the CTR names, those Connect
// deleted with their reasons, and the reason of a deleted recording that
// names no location.
func listed(c ctr.CTR) (locations []string, deleted map[string]string, unlisted string) {
	note := func(location, status, reason string) {
		if reason == "" {
			reason = "deleted in Amazon Connect"
		}
		switch {
		case location == "" && status == "DELETED":
			unlisted = reason
		case location == "":
		case status == "DELETED":
			if deleted == nil {
				deleted = map[string]string{}
			}
			deleted[location] = reason
			locations = append(locations, location)
		default:
			locations = append(locations, location)
		}
	}
	for _, r := range c.Recordings {
		note(r.Location, r.Status, r.DeletionReason)
	}
	if r := c.Recording; r != nil {
		note(r.Location, r.Status, r.DeletionReason)
	}
	return locations, deleted, unlisted
}

// MediaTypeChat is the media type of a chat transcript; MediaTypeAudio that
// of a call recording.
const (
	MediaTypeAudio = "AUDIO"
	MediaTypeChat  = "CHAT"
)

// transcripts picks a chat's transcripts that are available in S3: the
// entries of Recordings[] whose MediaStreamType is CHAT, or, where Connect
// left the type out, whose key is in its ChatTranscripts layout.
func transcripts(c ctr.CTR) ([]RecordingRef, string) {
	var refs []RecordingRef
	reason := "chat without a transcript (transcripts not stored, or the chat never started)"
	for _, r := range c.Recordings {
		chat := r.MediaStreamType == MediaTypeChat ||
			(r.MediaStreamType == "" && strings.Contains(r.Location, "/ChatTranscripts/"))
		switch {
		case !chat:
		case r.Status == "DELETED":
			reason = "transcript deleted: " + r.DeletionReason
		case r.Location != "" && (r.Status == "" || r.Status == "AVAILABLE") && (r.StorageType == "" || r.StorageType == "S3"):
			refs = append(refs, RecordingRef{Location: r.Location, Participant: r.ParticipantType, MediaType: MediaTypeChat})
		}
	}
	if len(refs) > 0 {
		return refs, ""
	}
	return nil, reason
}

// recordings picks the S3 audio recordings that are available, from
// Recordings[] or, in older CTRs, the single Recording. When there are none
// it says why.
func recordings(c ctr.CTR) ([]RecordingRef, string) {
	var refs []RecordingRef
	reason := "no recording (recording disabled or contact abandoned)"
	for _, r := range c.Recordings {
		switch {
		case r.Status == "DELETED":
			reason = "recording deleted: " + r.DeletionReason
		case r.StorageType == "KINESIS_VIDEO_STREAM":
			reason = "audio is in Kinesis Video Streams (voicemail or live media), not S3"
		case r.Location != "" && r.Status == "AVAILABLE" && (r.StorageType == "" || r.StorageType == "S3") &&
			(r.MediaStreamType == "" || r.MediaStreamType == "AUDIO"):
			refs = append(refs, RecordingRef{Location: r.Location, Participant: r.ParticipantType, MediaType: MediaTypeAudio})
		}
	}
	if len(c.Recordings) == 0 && c.Recording != nil {
		r := c.Recording
		switch {
		case r.Status == "DELETED":
			reason = "recording deleted: " + r.DeletionReason
		case r.Location != "" && r.Status == "AVAILABLE" && (r.Type == "" || r.Type == "AUDIO"):
			refs = append(refs, RecordingRef{Location: r.Location, MediaType: MediaTypeAudio})
		}
	}
	if len(refs) > 0 {
		return refs, ""
	}
	return nil, reason
}
