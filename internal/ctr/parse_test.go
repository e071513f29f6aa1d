package ctr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
)

const instance = "arn:aws:connect:eu-west-2:111122223333:instance/abc"

func reasonOf(t *testing.T, err error) ctr.Reason {
	t.Helper()
	var re *ctr.RejectError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a RejectError", err)
	}
	return re.Reason
}

func TestParse(t *testing.T) {
	t.Run("reads the fields of a realistic voice contact", func(t *testing.T) {
		lu := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
		raw := ctrtest.Sample(ctrtest.Options{
			ContactID: "c0ffee00-1111-4222-8333-444455556666", InstanceARN: instance, LastUpdate: lu,
			AgentUsername: "jdoe", RecordingLocation: "acme-recordings/connect/acme/CallRecordings/2026/11/24/c0ffee00_20261124T09:24_UTC.wav",
		})
		c, err := ctr.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if c.ContactID != "c0ffee00-1111-4222-8333-444455556666" || !c.LastUpdateTimestamp.Equal(lu) || c.InstanceARN != instance {
			t.Fatalf("identity fields: %+v", c)
		}
		if c.Channel != "VOICE" || c.Agent == nil || c.Agent.Username != "jdoe" || c.Queue.Name != "RetailBanking" {
			t.Fatalf("contact fields: %+v", c)
		}
		if len(c.Recordings) != 1 || !strings.Contains(c.Recordings[0].Location, "T09:24_UTC.wav") || c.Recordings[0].Status != "AVAILABLE" {
			t.Fatalf("recordings: %+v", c.Recordings)
		}
	})

	cases := map[string]struct {
		raw  string
		want ctr.Reason
	}{
		"not JSON":                 {"hello", ctr.ReasonNotJSON},
		"a JSON array":             {`[{"ContactId":"a"}]`, ctr.ReasonNotJSON},
		"a wrongly typed field":    {`{"ContactId":7}`, ctr.ReasonInvalidField},
		"no ContactId":             {`{"LastUpdateTimestamp":"2026-11-24T09:00:00Z"}`, ctr.ReasonMissingContactID},
		"a ContactId with a slash": {`{"ContactId":"a/b","LastUpdateTimestamp":"2026-11-24T09:00:00Z"}`, ctr.ReasonInvalidContactID},
		"a ContactId of dots":      {`{"ContactId":"..","LastUpdateTimestamp":"2026-11-24T09:00:00Z"}`, ctr.ReasonInvalidContactID},
		"an over-long ContactId":   {`{"ContactId":"` + strings.Repeat("a", 300) + `","LastUpdateTimestamp":"2026-11-24T09:00:00Z"}`, ctr.ReasonInvalidContactID},
		"no LastUpdateTimestamp":   {`{"ContactId":"abc"}`, ctr.ReasonMissingTimestamp},
		"a malformed timestamp":    {`{"ContactId":"abc","LastUpdateTimestamp":"yesterday"}`, ctr.ReasonInvalidField},
		"invalid UTF-8":            {"{\"ContactId\":\"\xff\"}", ctr.ReasonInvalidUTF8},
	}
	for name, tc := range cases {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := ctr.Parse([]byte(tc.raw))
			if got := reasonOf(t, err); got != tc.want {
				t.Fatalf("Parse: reason = %s, want %s", got, tc.want)
			}
			// The gateway's router refuses it for the same reason.
			_, err = ctr.Identify([]byte(tc.raw))
			if got := reasonOf(t, err); got != tc.want {
				t.Fatalf("Identify: reason = %s, want %s", got, tc.want)
			}
		})
	}

	t.Run("accepts 10,000 attributes", func(t *testing.T) {
		attrs := map[string]string{}
		for i := range 10000 {
			attrs["attr_"+strconv.Itoa(i)] = "v"
		}
		raw := ctrtest.Sample(ctrtest.Options{ContactID: "abc", InstanceARN: instance, LastUpdate: time.Now(), Attributes: attrs})
		c, err := ctr.Parse(raw)
		if err != nil || len(c.Attributes) < 10000 {
			t.Fatalf("got %d attributes, %v", len(c.Attributes), err)
		}
	})
}

func TestCheckInstance(t *testing.T) {
	c := ctr.Identity{ContactID: "abc", InstanceARN: instance}
	replica := strings.Replace(instance, "eu-west-2", "eu-central-1", 1)
	t.Run("accepts any of the tenant's instances", func(t *testing.T) {
		if err := ctr.CheckInstance(c, []string{instance}); err != nil {
			t.Fatal(err)
		}
		if err := ctr.CheckInstance(ctr.Identity{ContactID: "abc", InstanceARN: replica}, []string{instance, replica}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("refuses another instance, a replica not named among them included", func(t *testing.T) {
		for _, arn := range []string{instance + "x", replica} {
			if got := reasonOf(t, ctr.CheckInstance(ctr.Identity{ContactID: "abc", InstanceARN: arn}, []string{instance})); got != ctr.ReasonInstanceMismatch {
				t.Fatalf("%s: reason = %s", arn, got)
			}
		}
	})
}

func TestEnvelopeMessageID(t *testing.T) {
	t.Run("identifies tenant, contact and CTR version, whatever the time zone", func(t *testing.T) {
		lu := time.Date(2026, 11, 24, 9, 0, 0, 0, time.FixedZone("X", 3600))
		e := ctr.Envelope{TenantID: "acme", ContactID: "abc", LastUpdateTimestamp: lu}
		if got := e.MessageID(); got != "acme/abc/2026-11-24T08:00:00Z" {
			t.Fatalf("MessageID = %q", got)
		}
	})
}

func TestEnvelopeEncode(t *testing.T) {
	raw := ctrtest.Sample(ctrtest.Options{ContactID: "abc", InstanceARN: instance, LastUpdate: time.Now()})
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for name, e := range map[string]ctr.Envelope{
		"plain identifiers": {TenantID: "acme", ContactID: "abc", FirehoseRequestID: "req-1",
			LastUpdateTimestamp: at, ReceivedAt: at.Add(1500 * time.Nanosecond)},
		"a quote":            {TenantID: `acme "q"`, ContactID: "abc", LastUpdateTimestamp: at, ReceivedAt: at},
		"a backslash":        {TenantID: `acme\x`, ContactID: "abc", LastUpdateTimestamp: at, ReceivedAt: at},
		"markup":             {TenantID: "acme <x>", ContactID: "abc", LastUpdateTimestamp: at, ReceivedAt: at},
		"an ampersand":       {TenantID: "acme", ContactID: "a&b", LastUpdateTimestamp: at, ReceivedAt: at},
		"control characters": {TenantID: "acme", ContactID: "abc\x00", FirehoseRequestID: "req-\t1", LastUpdateTimestamp: at, ReceivedAt: at},
		"non-ASCII":          {TenantID: "acmé", ContactID: "abc", LastUpdateTimestamp: at, ReceivedAt: at},
		"a line separator":   {TenantID: "acme\u2028", ContactID: "abc", LastUpdateTimestamp: at, ReceivedAt: at},
		"invalid UTF-8":      {TenantID: "acme\xff", ContactID: "abc", LastUpdateTimestamp: at, ReceivedAt: at},
		"a reconciled origin": {TenantID: "acme", ContactID: "abc", Origin: ctr.OriginReconciled,
			LastUpdateTimestamp: at, ReceivedAt: at},
		"times in another zone": {TenantID: "acme", ContactID: "abc",
			LastUpdateTimestamp: at.In(time.FixedZone("X", 5400)), ReceivedAt: at.In(time.FixedZone("Y", -3600))},
		"zero times": {TenantID: "acme", ContactID: "abc"},
	} {
		t.Run("is the document json.Marshal writes, with "+name, func(t *testing.T) {
			e.CTR = append([]byte("  "), raw...)
			got, err := e.Encode()
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode differs from json.Marshal:\n got %.300s\nwant %.300s", got, want)
			}
			var back ctr.Envelope
			if err := json.Unmarshal(got, &back); err != nil || !bytes.Equal(back.CTR, raw) {
				t.Fatalf("round trip: %+v, %v", back, err)
			}
		})
	}
	t.Run("refuses a time json.Marshal refuses", func(t *testing.T) {
		e := ctr.Envelope{TenantID: "a", LastUpdateTimestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), CTR: raw}
		if _, err := e.Encode(); err == nil {
			t.Fatal("want an error for the year 10000")
		}
	})
	t.Run("refuses an empty CTR", func(t *testing.T) {
		if _, err := (ctr.Envelope{TenantID: "a"}).Encode(); err == nil {
			t.Fatal("want an error")
		}
	})
}
