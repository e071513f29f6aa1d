package ctr_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
)

// FuzzParse checks that Parse never panics, that every failure carries a
// known reason, and that whatever it accepts is safe to route: a contact ID
// fit for workflow IDs and object keys, and a timestamp.
func FuzzParse(f *testing.F) {
	f.Add(ctrtest.Sample(ctrtest.Options{ContactID: "abc-123", InstanceARN: instance, LastUpdate: time.Now()}))
	f.Add([]byte(`{"ContactId":"../x","LastUpdateTimestamp":"2026-11-24T09:00:00Z"}`))
	f.Add([]byte(`{"ContactId":"a","LastUpdateTimestamp":"2026-11-24T09:00:00Z","Recordings":[{"Location":"b/k"}]}`))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte(`[]`))
	known := map[ctr.Reason]bool{}
	for _, r := range ctr.Reasons {
		known[r] = true
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ctr.Parse(raw)
		if err != nil {
			var re *ctr.RejectError
			if !errors.As(err, &re) || !known[re.Reason] {
				t.Fatalf("unknown failure %v", err)
			}
			return
		}
		if c.ContactID == "" || c.LastUpdateTimestamp.IsZero() {
			t.Fatalf("accepted %+v", c)
		}
		for _, r := range c.ContactID {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				t.Fatalf("accepted contact ID %q with %q", c.ContactID, r)
			}
		}
	})
}

// FuzzRouterAgreesWithParser holds the gateway's router (Identify), which
// only scans, and the worker's parser (Parse), which also decodes, to the
// same verdict, reason and version for any record, and holds both to
// encoding/json as an independent oracle: whatever they accept,
// encoding/json decodes into the whole CTR model, to the same contact,
// instance and version.
func FuzzRouterAgreesWithParser(f *testing.F) {
	f.Add(ctrtest.Sample(ctrtest.Options{ContactID: "abc-123", InstanceARN: instance, LastUpdate: time.Now()}))
	f.Add([]byte(`{"ContactId":"a","LastUpdateTimestamp":"2026-11-24T09:00:00Z","ContactId":"b"}`))
	f.Add([]byte(`{"ContactId":"a","LastUpdateTimestamp":"2026-11-24T09:00:00Z","contactId":"b"}`))
	f.Add([]byte(`{"ContactId":"a","LastUpdateTimestamp":"2026-11-24T09:00:00Z","X":[1,]}`))
	f.Add([]byte(`{"ContactId":"a","LastUpdateTimestamp":"2026-11-24T09:00:00Z","A":{"k":"\u0000"}}`))
	f.Add([]byte(`{"ContactId":"a","LastUpdateTimestamp":"2026-11-24T09:00:00.123456789+02:00","Channel":1}`))
	f.Add([]byte(`{"ContactId":"a","LastUpdateTimestamp":"2026-11-24T09:00:00Z","agent":{"username":"x"},"Recordings":[null,{"LOCATION":"b/k"}]}`))
	f.Add([]byte(`{"ContactId":"a","LastUpdateTimestamp":"2026-11-24T09:00:00Z","Attributes":{"a":null,"b":"\u00e9"},"Queue":{"\u004eame":"q"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, idErr := ctr.Identify(raw)
		c, pErr := ctr.Parse(raw)
		if (idErr == nil) != (pErr == nil) {
			t.Fatalf("router %v, parser %v", idErr, pErr)
		}
		if idErr != nil {
			var a, b *ctr.RejectError
			if !errors.As(idErr, &a) || !errors.As(pErr, &b) || a.Reason != b.Reason {
				t.Fatalf("router %v, parser %v: different reasons", idErr, pErr)
			}
			return
		}
		if id.ContactID != c.ContactID || id.InstanceARN != c.InstanceARN || !id.LastUpdateTimestamp.Equal(c.LastUpdateTimestamp) {
			t.Fatalf("router %+v, parser %+v", id, c)
		}
		var oracle ctr.CTR
		if err := json.Unmarshal(raw, &oracle); err != nil {
			t.Fatalf("accepted, but encoding/json refuses it: %v", err)
		}
		if oracle.ContactID != id.ContactID || oracle.InstanceARN != id.InstanceARN || !oracle.LastUpdateTimestamp.Equal(id.LastUpdateTimestamp) {
			t.Fatalf("encoding/json reads %s %s %s, the router %+v", oracle.ContactID, oracle.InstanceARN, oracle.LastUpdateTimestamp, id)
		}
	})
}
