package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/internal/accesscheck"
	"github.com/connectingest/connect-ingest/internal/testkit/s3role"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestTenantsCheck(t *testing.T) {
	e := newSyncEnv(t, 3)
	s3 := testenv.S3StandIn(t)
	bucket := testenv.Bucket(t, s3, "check-rec")
	const key = "arn:aws:kms:eu-west-2:111122223333:key/check-1"
	body := testenv.WAV(1)
	if _, err := s3.PutObject(context.Background(), bucket, "connect/acme/CallRecordings/2026/11/24/c.wav", bytes.NewReader(body),
		int64(len(body)), minio.PutObjectOptions{UserMetadata: map[string]string{"Kms-Key-Id": key}}); err != nil {
		t.Fatal(err)
	}
	upstream, _ := url.Parse("http://127.0.0.1:9100")
	var role atomic.Pointer[http.Handler]
	grant := func(p s3role.Policy) {
		h := s3role.New(upstream, p)
		role.Store(&h)
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*role.Load()).ServeHTTP(w, r) }))
	t.Cleanup(front.Close)
	acme := e.id("acme")
	e.must(t, "tenants", "add", "--id", acme, "--name", "Acme", "--instance-arn", e.arn, "--recording-bucket", bucket,
		"--aws-endpoint-url", front.URL, "--connect-endpoint-url", e.url, "--sync=false")

	check := func(t *testing.T) (map[string]accesscheck.Result, error) {
		t.Helper()
		out, err := e.ingestctl(t, "tenants", "check", acme, "--json")
		var results []accesscheck.Result
		if jerr := json.Unmarshal([]byte(out), &results); jerr != nil {
			t.Fatalf("output %q: %v", out, jerr)
		}
		byCheck := map[string]accesscheck.Result{}
		for _, r := range results {
			name, _, _ := strings.Cut(r.Check, " ")
			byCheck[name] = r
		}
		return byCheck, err
	}
	all := s3role.Policy{ListBucket: true, KMSKeys: []string{key}}

	t.Run("a role with every permission passes every check", func(t *testing.T) {
		grant(all)
		got, err := check(t)
		if err != nil {
			t.Fatalf("%v: %+v", err, got)
		}
		for _, name := range []string{"s3:ListBucket", "s3:GetObject", "connect:SearchUsers", "connect:ListUsers", "connect:DescribeUser", "connect:SearchContacts"} {
			if got[name].Status != accesscheck.OK {
				t.Errorf("%s: %+v", name, got[name])
			}
		}
	})

	for _, c := range []struct {
		name, check, fix string
		s3               s3role.Policy
		connectDenied    []string
	}{
		{name: "without s3:ListBucket", check: "s3:ListBucket", fix: `"Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::` + bucket + `"]`,
			s3: s3role.Policy{KMSKeys: all.KMSKeys}},
		{name: "without s3:GetObject on the recordings", check: "s3:GetObject", fix: `"Action": "s3:GetObject", "Resource": ["arn:aws:s3:::` + bucket + `/*"]`,
			s3: s3role.Policy{ListBucket: true, KMSKeys: all.KMSKeys, DenyPrefixes: []string{"connect/"}}},
		{name: "left out of the KMS key policy", check: "s3:GetObject", fix: `"Action": "kms:Decrypt"`,
			s3: s3role.Policy{ListBucket: true}},
		{name: "without connect:SearchUsers", check: "connect:SearchUsers", fix: `"Action": "connect:SearchUsers"`,
			s3: all, connectDenied: []string{"SearchUsers"}},
		{name: "without connect:ListUsers", check: "connect:ListUsers", fix: `"Action": "connect:ListUsers"`,
			s3: all, connectDenied: []string{"ListUsers"}},
		{name: "without connect:DescribeUser", check: "connect:DescribeUser", fix: `"Action": "connect:DescribeUser"`,
			s3: all, connectDenied: []string{"DescribeUser"}},
		{name: "without connect:SearchContacts", check: "connect:SearchContacts", fix: `"Action": "connect:SearchContacts"`,
			s3: all, connectDenied: []string{"SearchContacts"}},
	} {
		t.Run("a role "+c.name+" fails that check and names the statement to add", func(t *testing.T) {
			grant(c.s3)
			e.server.WithSearchUsers(true)
			e.server.WithDenied(c.connectDenied...)
			defer e.server.WithAllowed(c.connectDenied...)
			got, err := check(t)
			if err == nil {
				t.Fatal("the check passed")
			}
			r := got[c.check]
			if r.Status != accesscheck.Missing || !strings.Contains(r.Fix, c.fix) {
				t.Fatalf("%s: %+v, want missing with a fix containing %s", c.check, r, c.fix)
			}
			for name, other := range got {
				if name != c.check && other.Status == accesscheck.Missing {
					t.Errorf("%s is missing too: %+v", name, other)
				}
			}
		})
	}
}
