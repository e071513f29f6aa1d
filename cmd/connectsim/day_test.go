package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"

	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// receiver records deliveries as a gateway would see them; the first
// delivery is answered 503 so that the client's retry is exercised.
type receiver struct {
	mu      sync.Mutex
	ids     []string
	records int
	refused bool
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	body, err := firehose.OpenBody(req.Body, req.Header.Get("Content-Encoding"), firehose.MaxBodyBytes)
	if err == nil {
		var fr firehose.Request
		fr, err = firehose.DecodeRequest(body, 0)
		if err == nil && (fr.RequestID != req.Header.Get(firehose.HeaderRequestID) || req.Header.Get(firehose.HeaderAccessKey) != "key-0123456789abcdefghijkl") {
			err = io.ErrUnexpectedEOF
		}
		if err == nil {
			r.ids = append(r.ids, fr.RequestID)
			if !r.refused {
				r.refused = true
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			r.records += len(fr.Records)
		}
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func TestDay(t *testing.T) {
	s3 := testenv.S3StandIn(t)
	bucket := testenv.Bucket(t, s3, "sim-rec")
	rec := &receiver{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	logFile := filepath.Join(t.TempDir(), "sent.jsonl")

	var out bytes.Buffer
	err := run(context.Background(), []string{"day", "--count", "30", "--seed", "3", "--gateway", srv.URL,
		"--access-key", "key-0123456789abcdefghijkl", "--instance-arn", "arn:aws:connect:eu-west-2:111122223333:instance/i-1",
		"--bucket", bucket, "--batch", "10", "--late-delay", "100ms", "--audio-seconds", "1", "--log", logFile, "--quiet"},
		testenv.Getenv(nil), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	lines := strings.Split(strings.TrimSpace(readFile(t, logFile)), "\n")
	t.Run("every CTR logged was delivered, and a refused delivery was retried with its request ID", func(t *testing.T) {
		if rec.records != len(lines) || rec.records < 30 {
			t.Fatalf("delivered %d records, logged %d", rec.records, len(lines))
		}
		if len(rec.ids) < 2 || rec.ids[0] != rec.ids[1] {
			t.Fatalf("request IDs %v: the retry must reuse the refused delivery's ID", rec.ids[:min(2, len(rec.ids))])
		}
		if !strings.Contains(out.String(), "30 contacts") {
			t.Fatalf("summary: %s", out.String())
		}
	})

	t.Run("each logged recording is in S3 with the logged SHA-256, late ones too", func(t *testing.T) {
		checked := 0
		for _, l := range lines {
			var s sentRecord
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatal(err)
			}
			if s.RecordingLocation == "" || s.Version > 0 {
				continue
			}
			key := strings.TrimPrefix(s.RecordingLocation, bucket+"/")
			obj, err := s3.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(obj)
			if err != nil {
				t.Fatalf("%s (%s): %v", key, s.Kind, err)
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != s.RecordingSHA256 {
				t.Fatalf("%s: sha256 differs from the log", key)
			}
			checked++
		}
		if checked == 0 {
			t.Fatal("no recording checked")
		}
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServe(t *testing.T) {
	addr := testenv.FreeAddr(t)
	stop := testenv.StartProgram(t, func(ctx context.Context) error {
		return run(ctx, []string{"serve", "--addr", addr, "--instance-id", "inst-1", "--users", "3", "--rate", "0"}, testenv.Getenv(nil), io.Discard, io.Discard)
	})
	t.Run("serves ListUsers to a signed client, refuses an unsigned request, and stops when told", func(t *testing.T) {
		testenv.WaitHTTP(t, "http://"+addr+"/users-summary/inst-1", http.StatusForbidden)
		c := connect.New(connect.Options{Region: "eu-west-2", BaseEndpoint: aws.String("http://" + addr), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(connectapi.DefaultAccessKey, connectapi.DefaultSecretKey, "")})
		out, err := c.ListUsers(context.Background(), &connect.ListUsersInput{InstanceId: aws.String("inst-1")})
		if err != nil || len(out.UserSummaryList) != 3 {
			t.Fatalf("ListUsers = %+v, %v", out, err)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}
