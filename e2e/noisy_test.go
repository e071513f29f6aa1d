package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// quietWithin is the longest the quiet tenant's call may take to reach its
// final state while the burst is processed.
const quietWithin = 30 * time.Second

// TestNoisyTenant sends one tenant's burst of 3,000 voice calls through the
// real programs and, while it is being processed, one call of another
// tenant: the quiet call must reach its final state within 30 s (Temporal
// dispatches each tenant's tasks in turn, by the fairness key Deliver sets;
// the gateway bounds each tenant's batches in flight), and neither tenant
// loses anything. `make faults` (FAULTS=full) runs it with the full burst and
// adds its figures to RELIABILITY.md (FAULTS_REPORT); `make test` runs it
// with a burst of 300.
func TestNoisyTenant(t *testing.T) {
	full := os.Getenv("FAULTS") == "full"
	noisyBurst, underWay := 300, 60
	if full {
		noisyBurst, underWay = 3000, 300
	}
	s := startSystemWith(t, systemOptions{})
	s3 := testenv.S3StandIn(t)
	noisy, quiet := newTenant(testenv.Bucket(t, s3, "noisy-rec")), newTenant(testenv.Bucket(t, s3, "quiet-rec"))
	s.addTenant(noisy)
	s.addTenant(quiet)
	dir := t.TempDir()
	day := func(tn e2eTenant, count int, seed int, log string) []string {
		return []string{"day", "--count", fmt.Sprint(count), "--seed", fmt.Sprint(seed), "--mix", "inbound=1",
			"--gateway", "http://" + s.gateway + "/firehose", "--access-key", tn.AccessKey, "--instance-arn", tn.InstanceARN,
			"--bucket", tn.Bucket, "--batch", "500", "--audio-seconds", "1", "--quiet", "--retry-window", "10m",
			"--log", filepath.Join(dir, log)}
	}

	burst := exec.Command(filepath.Join(s.bin, "connectsim"), day(noisy, noisyBurst, 7, "noisy.jsonl")...)
	burst.Env = s.env
	var out strings.Builder
	burst.Stdout, burst.Stderr = &out, &out
	if err := burst.Start(); err != nil {
		t.Fatal(err)
	}
	// Send the quiet call once the burst is well under way: a backlog of
	// the noisy tenant's calls is accepted and waiting.
	waitRows(t, s, noisy.ID, underWay, 10*time.Minute)
	sent := time.Now()
	s.run("connectsim", day(quiet, 1, 8, "quiet.jsonl")...)
	quietErr := s.settle(quiet.ID, 1, 5*time.Minute)
	quietTook := time.Since(sent)
	// The backlog: the noisy tenant's calls accepted (stored in the claim
	// check) and not yet settled.
	var backlog int
	if err := s.pool.QueryRow(context.Background(), `SELECT
		(SELECT count(DISTINCT contact_id) FROM ctr_versions WHERE tenant_id = $1) -
		(SELECT count(*) FROM conversations WHERE tenant_id = $1
			AND state IN ('enqueued','no_recording','recording_missing','recording_empty','recording_access_denied','rejected','failed','cancelled'))`, noisy.ID).Scan(&backlog); err != nil {
		t.Fatal(err)
	}
	t.Logf("the quiet call settled in %s, with %d of the noisy tenant's calls still in progress", quietTook.Round(100*time.Millisecond), backlog)

	if err := burst.Wait(); err != nil {
		t.Fatalf("connectsim: %v\n%s", err, out.String())
	}
	noisyErr := s.settle(noisy.ID, noisyBurst, 20*time.Minute)
	jobs := jobCounts(t, testenv.Drain(t, s.analysis, 10*(noisyBurst+1)))
	rows := []outcome{
		checkInvariantWith(t, s, noisy.ID, readLog(t, filepath.Join(dir, "noisy.jsonl")), jobs),
		checkInvariantWith(t, s, quiet.ID, readLog(t, filepath.Join(dir, "quiet.jsonl")), jobs),
	}
	rows[0].scenario, rows[1].scenario = fmt.Sprintf("noisy tenant: a burst of %d voice calls", noisyBurst), "quiet tenant: one call during the burst"
	rows[1].recovery = quietTook.Round(time.Second)
	for _, err := range []error{noisyErr, quietErr} {
		if err != nil {
			t.Error(err)
		}
	}
	for _, o := range rows {
		for _, v := range o.violations {
			t.Errorf("%s: %s", o.scenario, v)
		}
	}
	if quietTook > quietWithin {
		t.Errorf("the quiet tenant's call took %s to settle during the burst, want at most %s", quietTook.Round(time.Second), quietWithin)
	}
	switch {
	case backlog == 0 && full:
		t.Errorf("the burst was over before the quiet call settled: the scenario measured nothing")
	case backlog == 0:
		t.Logf("this machine processed the short burst before the quiet call settled; `make faults` sends ten times as many")
	}
	if path := os.Getenv("FAULTS_REPORT"); path != "" {
		appendNoisyReport(t, path, rows, noisyBurst, underWay, quietTook, backlog)
	}
}

// waitRows waits until the tenant has at least n conversations.
func waitRows(t *testing.T, s *system, tenant string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var got int
		if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM conversations WHERE tenant_id = $1`, tenant).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %s's conversations after %s, want %d", got, tenant, within, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// appendNoisyReport adds the scenario's section to RELIABILITY.md.
func appendNoisyReport(t *testing.T, path string, rows []outcome, burst, underWay int, quietTook time.Duration, backlog int) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Noisy tenant\n\nOne tenant sends a burst of %d voice calls (batches of 500); once %d of them are stored, another tenant\n", burst, underWay)
	fmt.Fprintf(&b, "sends one call. The quiet call reached its final state in **%s** (goal: at most %s), while %d of the\n", quietTook.Round(100*time.Millisecond), quietWithin, backlog)
	b.WriteString("noisy tenant's calls were still in progress. Both tenants are then checked against the invariant.\n\n")
	b.WriteString("| tenant | conversations | CTRs | rows | objects | jobs | violations |\n|---|---|---|---|---|---|---|\n")
	for _, o := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", o.scenario, o.conversations, o.ctrs, o.rows, o.objects, o.jobs, len(o.violations))
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}
