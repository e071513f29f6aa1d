package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/connectingest/connect-ingest/activities"
	"github.com/connectingest/connect-ingest/internal/accesskey"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/ingest"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

const reconInstance = "33333333-4444-5555-6666-777777777777"

// reconFixture is a tenant whose Connect instance the stand-in serves with
// contacts, and whose recovered CTRs go to their own queue.
type reconFixture struct {
	*fixture
	tenant   tenant.Tenant
	contacts *connectapi.Contacts
	ctrQueue string
	day      time.Time
}

func newReconFixture(t *testing.T, instance string) *reconFixture {
	t.Helper()
	f := newFixture(t)
	contacts := connectapi.NewContacts()
	hs := httptest.NewServer(connectapi.NewServer(connectapi.NewDirectory(reconInstance, 0), 0, 0).WithContacts(contacts).
		WithCredentials(f.acts.AWS.StandInAccessKey, f.acts.AWS.StandInSecretKey).Handler())
	t.Cleanup(hs.Close)
	tn := tenant.Tenant{
		ID: "recon", Name: "Recon", InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/" + instance,
		ConnectEndpointURL: hs.URL, RecordingBuckets: []string{f.source}, AWSEndpointURL: "http://127.0.0.1:9100",
	}
	if _, err := f.acts.Tenants.Create(context.Background(), tn, accesskey.Generate()); err != nil {
		t.Fatal(err)
	}
	ctrQueue := testenv.Queues(t)
	conn := queue.Dial(testenv.Config(t).AMQPURL, queue.Topology{CTRQueue: ctrQueue}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { conn.Close() })
	if err := conn.WaitReady(testenv.WithTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	pub := queue.NewPublisher(conn, 1)
	t.Cleanup(pub.Close)
	f.acts.Reconciliations = store.NewReconciliations(f.pool)
	f.acts.Ingester = &ingest.Ingester{Publisher: pub, Quarantine: f.acts.Quarantine, Queue: ctrQueue}
	f.acts.AWS.ConnectRate, f.acts.AWS.ConnectBurst = 1000, 100
	return &reconFixture{fixture: f, tenant: tn, contacts: contacts, ctrQueue: ctrQueue, day: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
}

// call adds a voice call that ended at hour:00 on the fixture's day.
func (f *reconFixture) call(id string, hour int, recording string) {
	end := f.day.Add(time.Duration(hour) * time.Hour)
	c := connectapi.Contact{ID: id, Channel: "VOICE", InitiationMethod: "INBOUND", InitiationTimestamp: end.Add(-5 * time.Minute),
		DisconnectTimestamp: end, LastUpdateTimestamp: end.Add(time.Minute), Attributes: map[string]string{"topic": "billing"}}
	if recording != "" {
		c.Recordings = []connectapi.Recording{{Location: recording, Status: "AVAILABLE"}}
	}
	f.contacts.Put(c)
}

// page begins the run (again) and reconciles the first page of the day.
func (f *reconFixture) page(t *testing.T, run string, dryRun bool) (activities.ReconcilePageResult, error) {
	t.Helper()
	if err := f.acts.Reconciliations.Begin(context.Background(), store.Reconciliation{TenantID: f.tenant.ID, RunID: run, Kind: "backfill",
		From: f.day, To: f.day.Add(24 * time.Hour), DryRun: dryRun}); err != nil {
		t.Fatal(err)
	}
	val, err := f.env.ExecuteActivity(f.acts.ReconcilePage, activities.ReconcilePageInput{TenantID: f.tenant.ID, RunID: run,
		From: f.day, To: f.day.Add(24 * time.Hour), DryRun: dryRun})
	if err != nil {
		return activities.ReconcilePageResult{}, err
	}
	var res activities.ReconcilePageResult
	return res, val.Get(&res)
}

func TestReconcilePage(t *testing.T) {
	t.Run("recovers each contact it lacks through the gateway's path, marked reconciled, with its recording", func(t *testing.T) {
		f := newReconFixture(t, reconInstance)
		ctx := context.Background()
		if _, err := f.acts.Conversations.UpsertMetadata(ctx, store.Conversation{TenantID: f.tenant.ID, ContactID: "c-have",
			LastUpdateTimestamp: f.day, CTR: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		f.call("c-have", 9, "")
		f.call("c-listed", 10, f.source+"/connect/acme/CallRecordings/2026/11/24/c-listed_20261124T09:55_UTC.wav")
		f.put(t, "connect/acme/CallRecordings/2026/11/24/c-layout_20261124T10:55_UTC.wav", []byte("RIFF"))
		f.call("c-layout", 11, "")
		f.call("c-none", 12, "")

		res, err := f.page(t, "run-1", false)
		if err != nil {
			t.Fatal(err)
		}
		if want := (store.ReconcileCounts{Seen: 4, Present: 1, Recovered: 3}); res.Counts != want || res.NextToken != "" {
			t.Fatalf("page %+v, want %+v", res, want)
		}
		recovered := map[string]ctr.CTR{}
		for _, d := range testenv.Drain(t, f.ctrQueue, 3) {
			var env ctr.Envelope
			if err := json.Unmarshal(d.Body, &env); err != nil {
				t.Fatal(err)
			}
			if env.Origin != ctr.OriginReconciled || env.TenantID != f.tenant.ID {
				t.Errorf("envelope %s: origin %q, tenant %s", env.ContactID, env.Origin, env.TenantID)
			}
			c, err := ctr.Parse(env.CTR)
			if err != nil {
				t.Fatal(err)
			}
			recovered[c.ContactID] = c
		}
		if len(recovered) != 3 {
			t.Fatalf("recovered %d CTRs, want c-listed, c-layout and c-none", len(recovered))
		}
		if r := recovered["c-listed"].Recordings; len(r) != 1 || r[0].Location != f.source+"/connect/acme/CallRecordings/2026/11/24/c-listed_20261124T09:55_UTC.wav" {
			t.Errorf("c-listed: recordings %+v, want the one DescribeContact lists", r)
		}
		if r := recovered["c-layout"].Recordings; len(r) != 1 || r[0].Location != f.source+"/connect/acme/CallRecordings/2026/11/24/c-layout_20261124T10:55_UTC.wav" {
			t.Errorf("c-layout: recordings %+v, want the one at Connect's key layout", r)
		}
		if r := recovered["c-none"].Recordings; len(r) != 0 || recovered["c-none"].Attributes["topic"] != "billing" {
			t.Errorf("c-none: %+v", recovered["c-none"])
		}

		again, err := f.page(t, "run-1", false)
		if err != nil {
			t.Fatal(err)
		}
		if again.Counts != res.Counts {
			t.Errorf("the page read again counts %+v, want %+v", again.Counts, res.Counts)
		}
		if n := len(testenv.Drain(t, f.ctrQueue, 1)); n != 0 {
			t.Errorf("the page read again sent %d CTRs more", n)
		}
	})

	t.Run("a contact an attempt began to recover and stored before it died is recovered again, never counted present", func(t *testing.T) {
		f := newReconFixture(t, reconInstance)
		ctx := context.Background()
		f.call("c-half", 9, "")
		if err := f.acts.Reconciliations.Begin(ctx, store.Reconciliation{TenantID: f.tenant.ID, RunID: "run-h", Kind: "backfill",
			From: f.day, To: f.day.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		// What the dead attempt left: its mark, and the conversation its
		// ingest stored.
		if err := f.acts.Reconciliations.Mark(ctx, f.tenant.ID, "run-h", store.ReconciledContact{ContactID: "c-half", Outcome: store.Recovering}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.acts.Conversations.UpsertMetadata(ctx, store.Conversation{TenantID: f.tenant.ID, ContactID: "c-half",
			LastUpdateTimestamp: f.day, CTR: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		res, err := f.page(t, "run-h", false)
		if want := (store.ReconcileCounts{Seen: 1, Recovered: 1}); err != nil || res.Counts != want {
			t.Fatalf("page %+v, %v; want %+v", res, err, want)
		}
		contacts, err := f.acts.Reconciliations.Contacts(ctx, f.tenant.ID, "run-h", 10)
		if err != nil || len(contacts) != 1 || contacts[0].Outcome != store.Recovered {
			t.Fatalf("marked %+v, %v", contacts, err)
		}
	})

	t.Run("a dry run counts what it would recover and sends nothing", func(t *testing.T) {
		f := newReconFixture(t, reconInstance)
		f.call("c-1", 9, "")
		f.call("c-2", 10, "")
		res, err := f.page(t, "dry", true)
		if err != nil || res.Counts.Recovered != 2 {
			t.Fatalf("dry run %+v, %v", res, err)
		}
		if n := len(testenv.Drain(t, f.ctrQueue, 1)); n != 0 {
			t.Errorf("a dry run sent %d CTRs", n)
		}
		contacts, err := f.acts.Reconciliations.Contacts(context.Background(), f.tenant.ID, "dry", 10)
		if err != nil || len(contacts) != 2 || contacts[0].Outcome != store.WouldRecover || contacts[0].DisconnectedAt == nil {
			t.Fatalf("marked %+v, %v", contacts, err)
		}
	})

	t.Run("stops at once, with the reason on the run, when Connect does not know the tenant's instance", func(t *testing.T) {
		f := newReconFixture(t, "44444444-0000-0000-0000-000000000000")
		_, err := f.page(t, "run-x", false)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeConnectRefused || !appErr.NonRetryable() {
			t.Fatalf("error %v, want a non-retryable %s", err, activities.ErrTypeConnectRefused)
		}
		runs, err := f.acts.Reconciliations.List(context.Background(), f.tenant.ID, 1)
		if err != nil || len(runs) != 1 || runs[0].Failure == "" || runs[0].FinishedAt == nil {
			t.Fatalf("the run's record %+v, %v", runs, err)
		}
	})
}
