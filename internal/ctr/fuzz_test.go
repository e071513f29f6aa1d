package ctr_test

import (
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
