package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/ctr"
)

func testPlan(t *testing.T, seed uint64, count int) []contact {
	t.Helper()
	mix, err := parseMix(defaultMix)
	if err != nil {
		t.Fatal(err)
	}
	return plan(dayOptions{
		Count: count, Seed: seed, Mix: mix, InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/i-1",
		Bucket: "rec", Alias: "acme", Day: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), AudioSeconds: 1,
	})
}

func TestPlan(t *testing.T) {
	day := testPlan(t, 7, 400)

	t.Run("is the same for the same seed and differs for another", func(t *testing.T) {
		again, other := testPlan(t, 7, 400), testPlan(t, 8, 400)
		if len(again) != 400 || !bytes.Equal(again[123].Versions[0], day[123].Versions[0]) {
			t.Fatal("the same seed made another day")
		}
		if bytes.Equal(other[5].Versions[0], day[5].Versions[0]) {
			t.Fatal("another seed made the same day")
		}
	})

	t.Run("holds every kind of contact, each CTR valid for routing", func(t *testing.T) {
		seen := map[string]int{}
		for _, c := range day {
			seen[c.Kind]++
			for _, v := range c.Versions {
				id, err := ctr.Identify(v)
				if err != nil || id.ContactID != c.ID {
					t.Fatalf("%s contact %s: %v", c.Kind, c.ID, err)
				}
			}
		}
		for _, k := range kinds {
			if seen[k] == 0 {
				t.Errorf("no %s contact in 400", k)
			}
		}
	})

	t.Run("transfer legs link to each other", func(t *testing.T) {
		byID := map[string]ctr.CTR{}
		for _, c := range day {
			parsed, err := ctr.Parse(c.Versions[0])
			if err != nil {
				t.Fatal(err)
			}
			byID[c.ID] = parsed
		}
		linked := 0
		for id, c := range byID {
			if c.NextContactID == "" {
				continue
			}
			next, ok := byID[c.NextContactID]
			if !ok {
				continue // the day was cut in the middle of a chain
			}
			if next.PreviousContactID != id || next.InitialContactID != c.InitialContactID {
				t.Fatalf("leg %s -> %s is not linked back", id, c.NextContactID)
			}
			linked++
		}
		if linked == 0 {
			t.Fatal("no linked transfer legs")
		}
	})

	t.Run("recordings and chat transcripts follow Connect's key layout and re-sent CTRs grow newer", func(t *testing.T) {
		layout := regexp.MustCompile(`^connect/acme/CallRecordings/\d{4}/\d{2}/\d{2}/[0-9a-f-]+_\d{8}T\d{2}:\d{2}_UTC\.wav$`)
		chats := regexp.MustCompile(`^connect/acme/ChatTranscripts/\d{4}/\d{2}/\d{2}/[0-9a-f-]+_\d{8}T\d{2}:\d{2}_UTC\.json$`)
		transcripts := 0
		for _, c := range day {
			switch {
			case c.Recording == nil:
			case c.Kind == kindChat:
				transcripts++
				if !chats.MatchString(c.Recording.Key) || !json.Valid(c.Recording.Body) {
					t.Fatalf("transcript %q: %.80s", c.Recording.Key, c.Recording.Body)
				}
			case !layout.MatchString(c.Recording.Key):
				t.Fatalf("key %q", c.Recording.Key)
			}
			if c.Kind == kindResent {
				first, _ := ctr.Identify(c.Versions[0])
				last, _ := ctr.Identify(c.Versions[len(c.Versions)-1])
				if len(c.Versions) < 3 || !last.LastUpdateTimestamp.After(first.LastUpdateTimestamp) {
					t.Fatalf("resent contact %s has versions %d", c.ID, len(c.Versions))
				}
			}
		}
		if transcripts == 0 {
			t.Fatal("the day has no chat with a transcript")
		}
	})

	t.Run("Connect's own view of each contact agrees with its newest CTR", func(t *testing.T) {
		for _, c := range day {
			want, err := ctr.Parse(c.Versions[len(c.Versions)-1])
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.connectView()
			if err != nil {
				t.Fatal(err)
			}
			if v.ID != want.ContactID || v.Channel != want.Channel || v.InitiationMethod != want.InitiationMethod ||
				!v.LastUpdateTimestamp.Equal(want.LastUpdateTimestamp) || !v.DisconnectTimestamp.Equal(*want.DisconnectTimestamp) ||
				!v.InitiationTimestamp.Equal(*want.InitiationTimestamp) || v.PreviousContactID != want.PreviousContactID {
				t.Fatalf("%s %s: Connect's view %+v, its CTR %+v", c.Kind, c.ID, v, want)
			}
			if (want.Agent == nil) != (v.AgentID == "") || want.Agent != nil && !strings.HasSuffix(want.Agent.ARN, "/agent/"+v.AgentID) {
				t.Fatalf("%s: agent %q, CTR's %+v", c.ID, v.AgentID, want.Agent)
			}
			if len(want.Recordings) != len(v.Recordings) ||
				len(v.Recordings) == 1 && (v.Recordings[0].Location != want.Recordings[0].Location || v.Recordings[0].Status != want.Recordings[0].Status) {
				t.Fatalf("%s: recordings %+v, CTR's %+v", c.ID, v.Recordings, want.Recordings)
			}
			if c.Kind == kindResent && v.Attributes["wrapup_code"] != "resolved" {
				t.Fatalf("%s: attributes %v, want the newest version's", c.ID, v.Attributes)
			}
		}
	})
}

func TestParseMix(t *testing.T) {
	t.Run("normalises shares", func(t *testing.T) {
		m, err := parseMix("inbound=3,chat=1")
		if err != nil || m["inbound"] != 0.75 || m["chat"] != 0.25 {
			t.Fatalf("got %v, %v", m, err)
		}
	})
	for _, bad := range []string{"voicemail=1", "inbound", "inbound=-1", "inbound=0"} {
		t.Run("refuses "+bad, func(t *testing.T) {
			if _, err := parseMix(bad); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
