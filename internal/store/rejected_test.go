package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

func TestQuarantine(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	if _, err := store.NewTenants(pool).Create(ctx, newTenant("acme"), accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	q := store.NewQuarantine(pool)
	recs := []store.Rejected{
		{TenantID: "acme", FirehoseRequestID: "req-1", RecordIndex: 0, Reason: "bad_base64", Detail: "illegal base64 data", RawData: []byte("!!")},
		{TenantID: "acme", FirehoseRequestID: "req-1", RecordIndex: 3, Reason: "not_json", RawData: []byte("not json")},
	}

	t.Run("stored records list newest first with their raw bytes", func(t *testing.T) {
		if _, err := q.Put(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got, err := q.List(ctx, store.RejectedFilter{TenantID: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d records, want 2", len(got))
		}
		if got[0].RecordIndex != 3 || !bytes.Equal(got[0].RawData, []byte("not json")) || got[0].Reason != "not_json" {
			t.Fatalf("newest = %+v", got[0])
		}
	})

	t.Run("a retried Firehose delivery quarantines nothing twice", func(t *testing.T) {
		if _, err := q.Put(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got, err := q.List(ctx, store.RejectedFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d records after a retry, want 2", len(got))
		}
	})

	t.Run("the reason filter selects", func(t *testing.T) {
		got, err := q.List(ctx, store.RejectedFilter{Reason: "bad_base64"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].RecordIndex != 0 {
			t.Fatalf("got %+v, want the one bad_base64 record", got)
		}
	})
}

func TestQuarantineBounds(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	for _, id := range []string{"noisy", "quiet"} {
		if _, err := store.NewTenants(pool).Create(ctx, newTenant(id), accesskey.Generate()); err != nil {
			t.Fatal(err)
		}
	}
	q := store.NewQuarantine(pool).WithQuota(3)

	t.Run("a record keeps its first 64 KiB, with the length and SHA-256 of the whole", func(t *testing.T) {
		big := bytes.Repeat([]byte("<&"), 1<<20) // 2 MiB
		sum := sha256.Sum256(big)
		if _, err := q.Put(ctx, []store.Rejected{{TenantID: "quiet", FirehoseRequestID: "req-big", Reason: "too_large", RawData: big}}); err != nil {
			t.Fatal(err)
		}
		got, err := q.List(ctx, store.RejectedFilter{TenantID: "quiet"})
		if err != nil || len(got) != 1 {
			t.Fatalf("got %d records, %v", len(got), err)
		}
		r := got[0]
		if len(r.RawData) != store.RejectedPrefixBytes || !bytes.Equal(r.RawData, big[:store.RejectedPrefixBytes]) {
			t.Errorf("kept %d bytes, want the first %d", len(r.RawData), store.RejectedPrefixBytes)
		}
		if r.RawLength != int64(len(big)) || r.RawSHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("length %d, sha256 %s: not the whole record's", r.RawLength, r.RawSHA256)
		}
	})

	t.Run("a detail is bounded, and never the data", func(t *testing.T) {
		long := strings.Repeat("é", 5000)
		if _, err := q.Put(ctx, []store.Rejected{{TenantID: "quiet", FirehoseRequestID: "req-detail", Reason: "not_json", Detail: long, RawData: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		got, err := q.List(ctx, store.RejectedFilter{TenantID: "quiet", Reason: "not_json"})
		if err != nil || len(got) != 1 || len(got[0].Detail) > 1024 || !utf8.ValidString(got[0].Detail) {
			t.Fatalf("detail of %d bytes (%v)", len(got[0].Detail), err)
		}
	})

	t.Run("past its quota a tenant's records are kept without bytes and counted; other tenants keep theirs", func(t *testing.T) {
		var recs []store.Rejected
		for i := range 5 {
			recs = append(recs, store.Rejected{TenantID: "noisy", FirehoseRequestID: "req-n", RecordIndex: i, Reason: "not_json", RawData: []byte("junk")})
		}
		recs = append(recs, store.Rejected{TenantID: "quiet", FirehoseRequestID: "req-q", Reason: "not_json", RawData: []byte("junk")})
		res, err := q.Put(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		if res.OverQuota["noisy"] != 2 || res.OverQuota["quiet"] != 0 {
			t.Fatalf("over quota %v, want noisy 2 and quiet none", res.OverQuota)
		}
		got, err := q.List(ctx, store.RejectedFilter{TenantID: "noisy"})
		if err != nil || len(got) != 5 {
			t.Fatalf("got %d noisy records, want all 5 kept (%v)", len(got), err)
		}
		withBytes := 0
		for _, r := range got {
			if len(r.RawData) > 0 {
				withBytes++
			}
			if r.RawLength != 4 || r.RawSHA256 == "" {
				t.Errorf("record %d lost its length or hash: %+v", r.RecordIndex, r)
			}
		}
		if withBytes != 3 {
			t.Errorf("%d records kept their bytes, want the quota of 3", withBytes)
		}
	})

	t.Run("purge deletes what is older than the cut-off, in bounded batches", func(t *testing.T) {
		if _, err := pool.Exec(ctx, `UPDATE rejected_records SET received_at = now() - interval '40 days' WHERE tenant_id = 'noisy'`); err != nil {
			t.Fatal(err)
		}
		cut := time.Now().Add(-30 * 24 * time.Hour)
		n, err := q.Purge(ctx, cut, 2)
		if err != nil || n != 2 {
			t.Fatalf("first batch deleted %d (%v), want 2", n, err)
		}
		n, err = q.Purge(ctx, cut, 100)
		if err != nil || n != 3 {
			t.Fatalf("second batch deleted %d (%v), want the 3 left", n, err)
		}
		left, err := q.List(ctx, store.RejectedFilter{Limit: 100})
		if err != nil || len(left) != 3 {
			t.Fatalf("%d records left (%v), want quiet's 3", len(left), err)
		}
	})
}
