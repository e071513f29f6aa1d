package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
	"github.com/connectingest/connect-ingest/workflows"
)

// sentDay is a connectsim day as its log tells it: every contact's kind,
// whether its CTRs were dropped, and its recording's checksum.
type sentDay struct {
	kinds   map[string]string
	dropped map[string]bool
	sums    map[string]string
}

func (d sentDay) add(log []sent) {
	for _, r := range log {
		d.kinds[r.ContactID] = r.Kind
		if r.Dropped {
			d.dropped[r.ContactID] = true
		}
		if r.RecordingSHA256 != "" {
			d.sums[r.ContactID] = r.RecordingSHA256
		}
	}
}

// TestReconciliation drops a share of a day's CTRs on the way from Connect,
// then recovers them with the backfill through Connect's SearchContacts and
// DescribeContact (the stand-in, through the real SDK), and checks that every
// contact Connect has ends once, as its kind says, and nothing doubles.
func TestReconciliation(t *testing.T) {
	s := startSystem(t)
	tn := newTenant(testenv.Bucket(t, testenv.S3StandIn(t), "e2e-recon"))
	contacts := filepath.Join(t.TempDir(), "contacts.jsonl")
	s.serveConnect(&tn, "--contacts", contacts)
	s.addTenant(tn)
	day := sentDay{kinds: map[string]string{}, dropped: map[string]bool{}, sums: map[string]string{}}
	send := func(date string, seed, count int, drop float64) {
		logPath := filepath.Join(t.TempDir(), "sent.jsonl")
		s.run("connectsim", "day", "--count", fmt.Sprint(count), "--seed", fmt.Sprint(seed), "--date", date, "--drop", fmt.Sprint(drop),
			"--contacts", contacts, "--log", logPath, "--gateway", "http://"+s.gateway+"/firehose", "--access-key", tn.AccessKey,
			"--instance-arn", tn.InstanceARN, "--bucket", tn.Bucket, "--late-delay", "2s", "--audio-seconds", "1", "--quiet")
		day.add(readLog(t, logPath))
	}
	yesterday := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	backfill := func(from, to time.Time, extra ...string) string {
		return s.run("ingestctl", append([]string{"backfill", tn.ID, "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}, extra...)...)
	}

	// yesterdayDropped are the contacts of yesterday's window whose CTRs
	// never arrived (day.dropped takes the later days' too).
	var yesterdayDropped []string
	t.Run("a day where a quarter of the CTRs never arrive: a dry run counts them, and changes nothing", func(t *testing.T) {
		send(yesterday.Format(time.DateOnly), 31, 40, 0.25)
		yesterdayDropped = slices.Sorted(maps.Keys(day.dropped))
		if len(day.dropped) == 0 || len(day.dropped) == len(day.kinds) {
			t.Fatalf("%d of %d contacts dropped; pick another seed", len(day.dropped), len(day.kinds))
		}
		s.waitSettled(tn.ID, len(day.kinds)-len(day.dropped), 3*time.Minute)
		out := backfill(yesterday, yesterday.Add(24*time.Hour), "--dry-run")
		if want := fmt.Sprintf("%d contacts in Connect, %d already ingested, %d would be recovered, 0 unrecoverable",
			len(day.kinds), len(day.kinds)-len(day.dropped), len(day.dropped)); !strings.Contains(out, want) {
			t.Fatalf("dry run said %q, want %q", out, want)
		}
		if n := s.count(`SELECT count(*) FROM conversations WHERE tenant_id = $1`, tn.ID); n != len(day.kinds)-len(day.dropped) {
			t.Fatalf("a dry run changed the conversations: %d", n)
		}
	})

	t.Run("the backfill recovers exactly the dropped contacts, marked reconciled, each once", func(t *testing.T) {
		out := backfill(yesterday, yesterday.Add(24*time.Hour))
		if want := fmt.Sprintf("%d contacts in Connect, %d already ingested, %d recovered, 0 unrecoverable",
			len(day.kinds), len(day.kinds)-len(day.dropped), len(day.dropped)); !strings.Contains(out, want) {
			t.Fatalf("backfill said %q, want %q", out, want)
		}
		s.waitSettled(tn.ID, len(day.kinds), 3*time.Minute)
		s.checkDay(t, tn.ID, day)
		testenv.SaveHistory(t, testenv.Temporal(t), workflows.BackfillWorkflowID(tn.ID, yesterday, yesterday.Add(24*time.Hour), false), "",
			"reconcile_backfill.json")
	})

	t.Run("an onboarding backfill over a past week, its worker killed while it runs, resumes and recovers every contact once", func(t *testing.T) {
		weekStart := yesterday.AddDate(0, 0, -7)
		for i := range 7 {
			send(weekStart.AddDate(0, 0, i).Format(time.DateOnly), 100+i, 6, 1)
		}
		// The worker calls Connect 4 times a second here, so the backfill
		// takes seconds and the kill lands in the middle of a page.
		s.kill("worker")
		s.env = append(s.env, "CONNECT_API_RATE=4", "CONNECT_API_BURST=1")
		s.start("worker")
		from, to := weekStart.Format(time.RFC3339), yesterday.Format(time.RFC3339)
		done := runAsync(s, "ingestctl", "backfill", tn.ID, "--from", from, "--to", to)
		time.Sleep(4 * time.Second)
		s.kill("worker")
		time.Sleep(time.Second)
		s.start("worker")
		res := <-done
		if res.err != nil {
			t.Fatalf("backfill: %v\n%s", res.err, res.out)
		}
		if !pageRetried(t, workflows.BackfillWorkflowID(tn.ID, weekStart, yesterday, false)) {
			t.Error("no page of the backfill was interrupted: the kill came too late to test a resume")
		}
		if want := "42 contacts in Connect, 0 already ingested, 42 recovered, 0 unrecoverable"; !strings.Contains(res.out, want) {
			t.Fatalf("backfill said %q, want %q", res.out, want)
		}
		s.waitSettled(tn.ID, len(day.kinds), 3*time.Minute)
		s.checkDay(t, tn.ID, day)
	})

	t.Run("a second backfill over the same range recovers nothing, and the runs are listed with what they found", func(t *testing.T) {
		jobsBefore := len(testenv.Drain(t, s.analysis, 1000))
		out := backfill(yesterday, yesterday.Add(24*time.Hour))
		if want := "0 recovered"; !strings.Contains(out, want) {
			t.Fatalf("the second backfill said %q", out)
		}
		s.waitSettled(tn.ID, len(day.kinds), time.Minute)
		if n := len(testenv.Drain(t, s.analysis, 10)); n != 0 {
			t.Errorf("the second backfill enqueued %d analysis jobs (%d drained before)", n, jobsBefore)
		}
		var runs []reconciliationListing
		if err := json.Unmarshal([]byte(s.run("ingestctl", "reconcile", "list", tn.ID, "--json")), &runs); err != nil {
			t.Fatal(err)
		}
		if len(runs) != 4 || runs[0].Recovered != 0 || !runs[len(runs)-1].DryRun || runs[len(runs)-1].Recovered != len(day.dropped)-42 {
			t.Errorf("reconcile list: %+v", runs)
		}
		if show := s.run("ingestctl", "tenants", "show", tn.ID); !strings.Contains(show, "completeness") || !strings.Contains(show, "missing 0") {
			t.Errorf("tenants show: %s", show)
		}
	})

	t.Run("a backfill over an erased contact never brings it back", func(t *testing.T) {
		if len(yesterdayDropped) == 0 {
			t.Fatal("no contact of yesterday's window was dropped")
		}
		erased := yesterdayDropped[0]
		s.run("ingestctl", "calls", "erase", tn.ID, erased, "--reason", "subject request")
		out := backfill(yesterday, yesterday.Add(24*time.Hour))
		if !strings.Contains(out, "0 recovered, 0 unrecoverable, 1 erased (refused)") {
			t.Fatalf("the backfill after the erasure said %q", out)
		}
		for _, table := range []string{"conversations", "ctr_versions", "recordings"} {
			if n := s.count(`SELECT count(*) FROM `+table+` WHERE tenant_id = $1 AND contact_id = $2`, tn.ID, erased); n != 0 {
				t.Errorf("the erased contact has %d rows in %s again", n, table)
			}
		}
	})
}

// pageRetried reports whether a page of the workflow's run was attempted
// again after its worker stopped heartbeating.
func pageRetried(t *testing.T, workflowID string) bool {
	t.Helper()
	it := testenv.Temporal(t).GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > 1 {
			return true
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT {
			return true
		}
	}
	return false
}

// reconciliationListing is the part of `reconcile list --json` checked.
type reconciliationListing struct {
	RunID     string `json:"runId"`
	DryRun    bool   `json:"dryRun"`
	Recovered int    `json:"recovered"`
}

// checkDay checks every contact connectsim made ends once, as its kind
// says; those whose CTRs were dropped recovered and marked reconciled, the
// others as Firehose delivered them; exactly one analysis job for each
// analysable contact enqueued since the last check.
func (s *system) checkDay(t *testing.T, tenantID string, day sentDay) {
	t.Helper()
	convs := store.NewConversations(s.pool)
	analysed := 0
	for id, kind := range day.kinds {
		c, recs, err := convs.Get(context.Background(), tenantID, id)
		if err != nil {
			t.Fatalf("%s %s: %v", kind, id, err)
		}
		wantOrigin := "firehose"
		if day.dropped[id] {
			wantOrigin = "reconciled"
		}
		if c.Origin != wantOrigin {
			t.Errorf("%s %s: origin %s, want %s", kind, id, c.Origin, wantOrigin)
		}
		switch {
		case analysable[kind]:
			analysed++
			if string(c.State) != "enqueued" || len(recs) != 1 || recs[0].SHA256 != day.sums[id] {
				t.Errorf("%s %s (dropped %v): %s %s, %d recordings", kind, id, day.dropped[id], c.State, c.StateDetail, len(recs))
			}
		case c.State != wantState(kind):
			t.Errorf("%s %s (dropped %v): %s %s", kind, id, day.dropped[id], c.State, c.StateDetail)
		}
	}
	if n := s.count(`SELECT count(*) FROM conversations WHERE tenant_id = $1 AND analysis_enqueued_at IS NOT NULL`, tenantID); n != analysed {
		t.Errorf("%d conversations enqueued, want %d", n, analysed)
	}
	if n := s.count(`SELECT count(*) FROM rejected_records WHERE tenant_id = $1`, tenantID); n != 0 {
		t.Errorf("%d records quarantined", n)
	}
}

// asyncResult is a program's output and error.
type asyncResult struct {
	out string
	err error
}

// runAsync runs a program to completion in the background.
func runAsync(s *system, name string, args ...string) <-chan asyncResult {
	done := make(chan asyncResult, 1)
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Env = s.env
	go func() {
		out, err := cmd.CombinedOutput()
		done <- asyncResult{string(out), err}
	}()
	return done
}
