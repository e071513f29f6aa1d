package jobschema_test

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/testkit/jobschema"
)

func TestTheSchemaRefusesWhatConsumersCouldNotUse(t *testing.T) {
	good := `{"jobVersion":2,"tenantId":"acme","contactId":"c-1","channel":"VOICE","recordings":[
		{"bucket":"b","key":"k","sizeBytes":1,"sha256":"` + sha + `","contentType":"audio/wav","participant":"AGENT",
		 "audio":{"codec":"pcm_s16le","sampleRateHz":8000,"channels":2,"bitsPerSample":16,"durationMs":1000,
		  "channelRoles":[{"index":0,"position":"left","role":"customer_and_incoming","silent":false},
		                  {"index":1,"position":"right","role":"agent"}]}}]}`
	if err := jobschema.Check(t, jobschema.AnalysisJob, []byte(good)); err != nil {
		t.Fatalf("a sound job is refused: %v", err)
	}
	for name, bad := range map[string]string{
		"no version":      `{"tenantId":"acme","contactId":"c-1","channel":"VOICE","recordings":[]}`,
		"an unknown role": `{"jobVersion":2,"tenantId":"acme","contactId":"c-1","channel":"VOICE","recordings":[{"bucket":"b","key":"k","sizeBytes":1,"sha256":"` + sha + `","contentType":"audio/wav","participant":"AGENT","audio":{"codec":"pcm_s16le","sampleRateHz":8000,"channels":1,"bitsPerSample":16,"durationMs":1,"channelRoles":[{"index":0,"position":"mono","role":"speaker"}]}}]}`,
		"a short hash":    `{"jobVersion":2,"tenantId":"acme","contactId":"c-1","channel":"VOICE","recordings":[{"bucket":"b","key":"k","sizeBytes":1,"sha256":"ab","contentType":"audio/wav","participant":"AGENT"}]}`,
		"a bad timestamp": `{"jobVersion":2,"tenantId":"acme","contactId":"c-1","channel":"VOICE","disconnectTimestamp":"yesterday","recordings":[]}`,
		"a bad language":  `{"jobVersion":2,"tenantId":"acme","contactId":"c-1","channel":"VOICE","language":"English","recordings":[]}`,
	} {
		if jobschema.Check(t, jobschema.AnalysisJob, []byte(bad)) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
