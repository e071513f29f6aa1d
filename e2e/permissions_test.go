package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/testkit/s3role"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// TestLeastPrivilegeRole runs a day of calls for a tenant whose recordings
// are encrypted with a KMS key whose policy forgets connect-ingest's role,
// as S3 answers such a role, then has the customer fix the key policy and
// an operator retry the calls.
func TestLeastPrivilegeRole(t *testing.T) {
	s := startSystem(t)
	tn := newTenant(testenv.Bucket(t, testenv.S3StandIn(t), "perm-rec"))
	const key = "arn:aws:kms:eu-west-2:111122223333:key/2f1c9a55-perm-4e1b-9c1d-000000000001"
	upstream, _ := url.Parse("http://127.0.0.1:9100")
	var role atomic.Pointer[http.Handler]
	grant := func(p s3role.Policy) {
		h := s3role.New(upstream, p)
		role.Store(&h)
	}
	grant(s3role.Policy{ListBucket: true})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*role.Load()).ServeHTTP(w, r) }))
	t.Cleanup(front.Close)
	tn.S3URL = front.URL
	s.serveConnect(&tn)
	s.addTenant(tn)

	const calls = 12
	s.run("connectsim", "day", "--count", "12", "--seed", "5", "--mix", "inbound=1", "--kms-key", key,
		"--gateway", "http://"+s.gateway+"/firehose", "--access-key", tn.AccessKey, "--instance-arn", tn.InstanceARN,
		"--bucket", tn.Bucket, "--audio-seconds", "1", "--quiet")
	s.waitSettled(tn.ID, calls, 2*time.Minute)

	t.Run("tenants check names the key policy statement to add", func(t *testing.T) {
		out, err := s.try("ingestctl", "tenants", "check", tn.ID)
		if err == nil || !strings.Contains(out, `"Action": "kms:Decrypt"`) || !strings.Contains(out, "key policy") {
			t.Fatalf("tenants check: %v\n%s", err, out)
		}
	})

	t.Run("every call ends recording_access_denied at once, naming the permission to grant", func(t *testing.T) {
		if n := s.count(`SELECT count(*) FROM conversations WHERE tenant_id = $1 AND state = 'recording_access_denied'
			AND state_detail LIKE '%kms:Decrypt%'`, tn.ID); n != calls {
			t.Fatalf("%d of %d calls ended recording_access_denied naming kms:Decrypt", n, calls)
		}
		if jobs := testenv.Drain(t, s.analysis, 5); len(jobs) != 0 {
			t.Fatalf("%d analysis jobs for calls whose audio was never read", len(jobs))
		}
	})

	t.Run("once the key policy names the role, one retry takes every call to analysis", func(t *testing.T) {
		grant(s3role.Policy{ListBucket: true, KMSKeys: []string{key}})
		s.run("ingestctl", "calls", "retry", "--tenant", tn.ID, "--state", "recording_access_denied", "--yes")
		deadline := time.Now().Add(2 * time.Minute)
		for s.count(`SELECT count(*) FROM conversations WHERE tenant_id = $1 AND state = 'enqueued'`, tn.ID) != calls {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d calls enqueued after the retry", s.count(`SELECT count(*) FROM conversations
					WHERE tenant_id = $1 AND state = 'enqueued'`, tn.ID), calls)
			}
			time.Sleep(300 * time.Millisecond)
		}
		if jobs := testenv.Drain(t, s.analysis, 10*calls); len(jobs) != calls {
			t.Fatalf("%d analysis jobs, want %d", len(jobs), calls)
		}
	})

	t.Run("tenants check then passes, a signed test delivery through the gateway included", func(t *testing.T) {
		out := s.run("ingestctl", "tenants", "check", tn.ID, "--endpoint", "http://"+s.gateway+"/firehose", "--access-key", tn.AccessKey)
		if !regexp.MustCompile(`(?m)^Firehose delivery to http://` + regexp.QuoteMeta(s.gateway) + `/firehose\s+ok\s*$`).MatchString(out) {
			t.Fatalf("tenants check:\n%s", out)
		}
		if _, err := s.try("ingestctl", "tenants", "check", tn.ID, "--endpoint", "http://"+s.gateway+"/firehose",
			"--access-key", "not-the-tenants-key-0123456789abcdef"); err == nil {
			t.Fatal("a delivery with a wrong key passed the check")
		}
	})
}
