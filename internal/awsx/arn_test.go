package awsx_test

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/awsx"
)

func TestAgentUserID(t *testing.T) {
	if got := awsx.AgentUserID("arn:aws:connect:eu-west-2:1:instance/i/agent/abc-123"); got != "abc-123" {
		t.Fatalf("got %q", got)
	}
	if got := awsx.AgentUserID("not an arn"); got != "" {
		t.Fatalf("got %q from a non-ARN", got)
	}
}

func TestRegion(t *testing.T) {
	got, err := awsx.Region("arn:aws:connect:eu-west-2:111122223333:instance/abc")
	if err != nil || got != "eu-west-2" {
		t.Fatalf("Region = %q, %v", got, err)
	}
	for _, arn := range []string{"", "arn:aws:connect", "arn:aws:iam::111122223333:role/x"} {
		if _, err := awsx.Region(arn); err == nil {
			t.Errorf("%q: no error for an ARN without a region", arn)
		}
	}
}
