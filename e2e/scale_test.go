package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// TestScaleOut runs two gateways and three workers on one stack: a day of
// calls is delivered through both gateways at once while one worker is
// frozen (SIGSTOP) past its activities' heartbeat timeout, so that the
// others take its work over, and then thawed. Nothing is lost, nothing
// doubled.
func TestScaleOut(t *testing.T) {
	s := startSystemWith(t, systemOptions{gateways: 2, workers: 3})
	tn := newTenant(testenv.Bucket(t, testenv.S3StandIn(t), "scale-rec"))
	s.addTenant(tn)

	dir := t.TempDir()
	day := func(gateway string, seed, log string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(s.bin, "connectsim"), "day", "--count", "60", "--seed", seed,
			"--gateway", "http://"+gateway+"/firehose", "--access-key", tn.AccessKey, "--instance-arn", tn.InstanceARN,
			"--bucket", tn.Bucket, "--batch", "5", "--rate", "6", "--late-delay", "10s", "--audio-seconds", "2",
			"--quiet", "--retry-window", "5m", "--log", filepath.Join(dir, log))
		cmd.Env = s.env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	a, b := day(s.gateways[0], "31", "a.jsonl"), day(s.gateways[1], "32", "b.jsonl")

	// Freeze a worker while calls flow: its pollers, workflow tasks and
	// copies stall; Temporal hands them to the others after their
	// timeouts (workflow tasks 10 s, the copy's heartbeat 1 min).
	time.Sleep(3 * time.Second)
	frozen := s.procs["worker-2"].Process
	if err := frozen.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(75 * time.Second)
	if err := frozen.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []*exec.Cmd{a, b} {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("connectsim: %v", err)
		}
	}

	sentLog := append(readLog(t, filepath.Join(dir, "a.jsonl")), readLog(t, filepath.Join(dir, "b.jsonl"))...)
	contacts := map[string]bool{}
	for _, r := range sentLog {
		contacts[r.ContactID] = true
	}
	if err := s.settle(tn.ID, len(contacts), 4*time.Minute); err != nil {
		t.Fatal(err)
	}
	o := checkInvariant(t, s, tn.ID, sentLog)
	for _, v := range o.violations {
		t.Error(v)
	}
	t.Logf("2 gateways, 3 workers, one frozen 75 s: %d conversations, %d objects, %d jobs", len(contacts), o.objects, o.jobs)

	t.Run("the work was shared: more than one worker handed CTRs to Temporal", func(t *testing.T) {
		busy := 0
		for _, name := range s.instances("worker") {
			body := testenv.WaitHTTP(t, "http://"+s.specs[name].admin+"/metrics", 200)
			for _, line := range strings.Split(body, "\n") {
				if v, ok := strings.CutPrefix(line, "worker_ctr_messages_delivered_total "); ok && v != "0" {
					busy++
				}
			}
		}
		if busy < 2 {
			t.Fatalf("%d of 3 workers delivered CTR messages", busy)
		}
	})
}
