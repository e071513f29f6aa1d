package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/activities"
)

func TestPurgeQuarantine(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// 1,500 records past the retention, in more than one batch, and one
	// within it.
	if _, err := f.pool.Exec(ctx, `INSERT INTO rejected_records (tenant_id, firehose_request_id, record_index, reason, raw_data, raw_length, raw_sha256, received_at)
		SELECT 'acme', 'req-old', i, 'not_json', '\x00'::bytea, 1, 'h', now() - interval '40 days' FROM generate_series(1, 1500) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO rejected_records (tenant_id, firehose_request_id, record_index, reason, raw_data, raw_length, raw_sha256)
		VALUES ('acme', 'req-new', 0, 'not_json', '\x00'::bytea, 1, 'h')`); err != nil {
		t.Fatal(err)
	}
	val, err := f.env.ExecuteActivity(f.acts.PurgeQuarantine, activities.PurgeQuarantineInput{Before: time.Now().Add(-30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.PurgeQuarantineResult
	if err := val.Get(&res); err != nil || res.Deleted != 1500 {
		t.Fatalf("deleted %d (%v), want 1500", res.Deleted, err)
	}
	var left int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM rejected_records`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("%d left (%v), want the one within the retention", left, err)
	}
}
