package store_test

import (
	"bytes"
	"context"
	"testing"

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
		if err := q.Put(ctx, recs); err != nil {
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
		if err := q.Put(ctx, recs); err != nil {
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
