package tenant_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/agents"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

func valid() tenant.Tenant {
	return tenant.Tenant{
		ID: "acme", Name: "Acme", InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/abc-123",
		RecordingBuckets: []string{"acme-connect-recordings"},
	}
}

func TestValidate(t *testing.T) {
	t.Run("a tenant with only the required settings is valid and gets the default sync interval", func(t *testing.T) {
		tn := valid()
		if err := tn.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := tn.WithDefaults().SyncInterval; got != tenant.DefaultSyncInterval {
			t.Fatalf("sync interval %s, want %s", got, tenant.DefaultSyncInterval)
		}
	})

	t.Run("a tenant with no bucket yet (chat only) stores an empty list, not NULL", func(t *testing.T) {
		tn := valid()
		tn.RecordingBuckets = nil
		if err := tn.Validate(); err != nil {
			t.Fatal(err)
		}
		if b := tn.WithDefaults().RecordingBuckets; b == nil || len(b) != 0 {
			t.Fatalf("buckets %#v", b)
		}
	})

	cases := []struct {
		name   string
		change func(*tenant.Tenant)
		names  string
	}{
		{"an upper-case tenant ID", func(t *tenant.Tenant) { t.ID = "Acme" }, "tenant ID"},
		{"a tenant ID with a slash, which would reach into another workflow ID", func(t *tenant.Tenant) { t.ID = "acme/x" }, "tenant ID"},
		{"a tenant ID of 64 characters", func(t *tenant.Tenant) { t.ID = strings.Repeat("a", 64) }, "tenant ID"},
		{"no display name", func(t *tenant.Tenant) { t.Name = "" }, "--name"},
		{"an ARN that is not a Connect instance", func(t *tenant.Tenant) { t.InstanceARN = "arn:aws:s3:::bucket" }, "--instance-arn"},
		{"a mistyped bucket (upper case)", func(t *tenant.Tenant) { t.RecordingBuckets = []string{"Acme-Recordings"} }, "--recording-bucket"},
		{"a bucket given as an S3 URL", func(t *tenant.Tenant) { t.RecordingBuckets = []string{"s3://acme-recordings"} }, "--recording-bucket"},
		{"a bucket with '..'", func(t *tenant.Tenant) { t.RecordingBuckets = []string{"acme..recordings"} }, "--recording-bucket"},
		{"an endpoint without a scheme", func(t *tenant.Tenant) { t.AWSEndpointURL = "127.0.0.1:9100" }, "--aws-endpoint-url"},
		{"a Connect endpoint that is not http", func(t *tenant.Tenant) { t.ConnectEndpointURL = "ftp://x" }, "--connect-endpoint-url"},
		{"a role that is not an IAM role ARN", func(t *tenant.Tenant) { t.AWSRoleARN = "my-role" }, "--aws-role-arn"},
		{"an external ID without a role", func(t *tenant.Tenant) { t.AWSExternalID = "x" }, "--aws-external-id"},
		{"a sync interval under a minute", func(t *tenant.Tenant) { t.SyncInterval = 10 * time.Second }, "--sync-interval"},
		{"an agent tag without '='", func(t *tenant.Tenant) { t.AgentFilter = agents.Filter{Tag: "team"} }, "agent filter"},
	}
	for _, c := range cases {
		t.Run("refuses "+c.name+", naming the setting", func(t *testing.T) {
			tn := valid()
			c.change(&tn)
			err := tn.Validate()
			if !errors.Is(err, tenant.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.names) {
				t.Fatalf("err = %v, want it to name %s", err, c.names)
			}
		})
	}

	t.Run("accepts a role with its external ID, and stand-in endpoints", func(t *testing.T) {
		tn := valid()
		tn.AWSRoleARN, tn.AWSExternalID = "arn:aws:iam::111122223333:role/connect-ingest", "ext-1"
		tn.AWSEndpointURL, tn.ConnectEndpointURL = "http://127.0.0.1:9100", "https://connect.example"
		if err := tn.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseRetention(t *testing.T) {
	t.Run("days and none are read; anything else is refused", func(t *testing.T) {
		for in, want := range map[string]int{"90d": 90, "1d": 1, "none": 0, "0d": 0, "3660d": 3660} {
			got, err := tenant.ParseRetention(in)
			if err != nil || got != want {
				t.Errorf("%q: %d, %v; want %d", in, got, err, want)
			}
			if back, _ := tenant.ParseRetention(tenant.FormatRetention(got)); back != got {
				t.Errorf("%q does not survive formatting: %q", in, tenant.FormatRetention(got))
			}
		}
		for _, in := range []string{"", "d", "90", "90h", "-1d", "+5d", "3661d", "ninety", "none "} {
			if _, err := tenant.ParseRetention(in); err == nil {
				t.Errorf("%q accepted", in)
			}
		}
	})
}
