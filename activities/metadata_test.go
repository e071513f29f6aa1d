package activities_test

import (
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/ctr"
)

func voice() ctr.CTR {
	start := time.Date(2026, 11, 24, 23, 58, 0, 0, time.UTC)
	return ctr.CTR{
		ContactID: "c-1", Channel: "VOICE", InitiationMethod: "INBOUND", InitiationTimestamp: &start,
		LastUpdateTimestamp: start.Add(10 * time.Minute), InitialContactID: "c-0", PreviousContactID: "c-0",
		Agent:            &ctr.Agent{ARN: "arn:aws:connect:eu-west-2:111122223333:instance/i-1/agent/u-42", Username: "jdoe"},
		Queue:            &ctr.Queue{Name: "Sales"},
		CustomerEndpoint: &ctr.Endpoint{Address: "+447700900123"},
		SystemEndpoint:   &ctr.Endpoint{Address: "+442079460000"},
		Recordings: []ctr.Recording{
			{Location: "b/ivr.wav", Status: "AVAILABLE", StorageType: "S3", MediaStreamType: "AUDIO", ParticipantType: "IVR"},
			{Location: "b/agent.wav", Status: "AVAILABLE", StorageType: "S3", MediaStreamType: "AUDIO", ParticipantType: "AGENT"},
			{Location: "b/screen.mp4", Status: "AVAILABLE", StorageType: "S3", MediaStreamType: "VIDEO"},
		},
	}
}

func TestNormalize(t *testing.T) {
	t.Run("maps the contact's fields and links transfers and the agent's user ID", func(t *testing.T) {
		res := activities.Normalize("acme", voice())
		c := res.Conversation
		if c.TenantID != "acme" || c.ContactID != "c-1" || c.QueueName != "Sales" || c.AgentUsername != "jdoe" ||
			c.AgentUserID != "u-42" || c.CustomerEndpoint != "+447700900123" || c.SystemEndpoint != "+442079460000" ||
			c.InitialContactID != "c-0" || c.PreviousContactID != "c-0" {
			t.Fatalf("conversation = %+v", c)
		}
		if !res.Day.Equal(*voice().InitiationTimestamp) {
			t.Fatalf("day = %v, want the initiation time", res.Day)
		}
	})

	t.Run("copies IVR and agent audio and leaves video out", func(t *testing.T) {
		res := activities.Normalize("acme", voice())
		if !res.Analysable || len(res.Recordings) != 2 || res.Recordings[0].Participant != "IVR" || res.Recordings[1].Location != "b/agent.wav" {
			t.Fatalf("recordings = %+v", res.Recordings)
		}
	})

	t.Run("a chat's recording is its transcript, named by MediaStreamType or Connect's key layout", func(t *testing.T) {
		for _, rec := range []ctr.Recording{
			{Location: "b/connect/acme/ChatTranscripts/2026/11/24/c_20261124T09:24_UTC.json", Status: "AVAILABLE", StorageType: "S3", MediaStreamType: "CHAT"},
			{Location: "b/connect/acme/ChatTranscripts/2026/11/24/c_20261124T09:24_UTC.json"},
		} {
			c := voice()
			c.Channel = "CHAT"
			c.Recordings = []ctr.Recording{rec, {Location: "b/x.wav", Status: "AVAILABLE", MediaStreamType: "AUDIO"}}
			res := activities.Normalize("acme", c)
			if !res.Analysable || len(res.Recordings) != 1 || res.Recordings[0].Location != rec.Location ||
				res.Recordings[0].MediaType != activities.MediaTypeChat {
				t.Errorf("%+v: recordings %+v", rec, res.Recordings)
			}
		}
	})

	t.Run("falls back to the legacy Recording field", func(t *testing.T) {
		c := voice()
		c.Recordings = nil
		c.Recording = &ctr.Recording{Location: "b/legacy.wav", Status: "AVAILABLE", Type: "AUDIO"}
		res := activities.Normalize("acme", c)
		if len(res.Recordings) != 1 || res.Recordings[0].Location != "b/legacy.wav" {
			t.Fatalf("recordings = %+v", res.Recordings)
		}
	})

	noAudio := map[string]func(*ctr.CTR){
		"chat without a transcript": func(c *ctr.CTR) { c.Channel = "CHAT" },
		"chat whose transcript was deleted": func(c *ctr.CTR) {
			c.Channel = "CHAT"
			c.Recordings = []ctr.Recording{{Location: "b/t.json", Status: "DELETED", MediaStreamType: "CHAT", DeletionReason: "GDPR"}}
		},
		"task":                  func(c *ctr.CTR) { c.Channel = "TASK" },
		"supervisor monitoring": func(c *ctr.CTR) { c.InitiationMethod = "MONITOR" },
		"recording disabled":    func(c *ctr.CTR) { c.Recordings = nil },
		"recording deleted": func(c *ctr.CTR) {
			c.Recordings = []ctr.Recording{{Location: "b/x.wav", Status: "DELETED", DeletionReason: "GDPR"}}
		},
		"voicemail in Kinesis": func(c *ctr.CTR) {
			c.Recordings = []ctr.Recording{{StorageType: "KINESIS_VIDEO_STREAM", Status: "AVAILABLE"}}
		},
		"legacy recording deleted": func(c *ctr.CTR) {
			c.Recordings, c.Recording = nil, &ctr.Recording{Location: "b/x.wav", Status: "DELETED"}
		},
		"recording not yet written": func(c *ctr.CTR) {
			c.Recordings = []ctr.Recording{{Location: "b/x.wav", Status: "UNAVAILABLE", StorageType: "S3"}}
		},
	}
	for name, mutate := range noAudio {
		t.Run("a contact with no audio is not analysable: "+name, func(t *testing.T) {
			c := voice()
			mutate(&c)
			res := activities.Normalize("acme", c)
			if res.Analysable || len(res.Recordings) != 0 || res.NoAudioReason == "" {
				t.Fatalf("analysable=%v recordings=%v reason=%q", res.Analysable, res.Recordings, res.NoAudioReason)
			}
		})
	}
}
