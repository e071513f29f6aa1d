package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// A fault scenario: a day of calls from connectsim through the real
// programs while inject does something bad to them, then the invariant.
type scenario struct {
	name string
	// full marks a scenario only `make faults` runs: too slow for
	// `make test`, or one that disturbs services other tests share.
	full bool
	// shuffle sends the day's CTR versions out of order; twice sends the
	// whole day a second time.
	shuffle, twice bool
	// lateDelay, when set, lands the late recordings this long after
	// their CTRs (the S3 stand-in answers 404 until then).
	lateDelay time.Duration
	// slowS3, when set, bounds each S3 connection of the worker to this
	// many bytes per second, and audioSeconds makes recordings longer.
	slowS3       int64
	audioSeconds int
	// several marks a scenario only a system of several workers can have:
	// it runs on at least 2 gateways and 3 workers. previous starts the
	// workers from the previous release, for the scenario to deploy the
	// new one.
	several, previous bool
	// mix, when set, is connectsim's share of each kind of contact.
	mix string
	// inject does the damage while the day is being sent, and undoes it;
	// it returns when the system has what it needs to recover.
	inject func(t *testing.T, s *system, outage time.Duration)
}

// outcome is one row of RELIABILITY.md.
type outcome struct {
	scenario       string
	conversations  int
	ctrs           int
	rows           int
	objects        int
	jobs           int
	quarantined    int
	recovery       time.Duration
	violations     []string
	expectedObject int
	expectedJobs   int
	// notes are what the scenario measured beside the invariant.
	notes []string
}

func (o outcome) pass() bool { return len(o.violations) == 0 }

var scenarios = []scenario{
	{name: "RabbitMQ unreachable during ingest and consumption", inject: func(t *testing.T, s *system, d time.Duration) {
		s.proxies["rabbitmq"].Cut()
		time.Sleep(d)
		s.proxies["rabbitmq"].Restore()
	}},
	{name: "Worker killed (SIGKILL) during recording copies, then started again", inject: func(t *testing.T, s *system, d time.Duration) {
		s.kill("worker")
		time.Sleep(d / 2)
		s.start("worker")
	}},
	{name: "Gateway killed (SIGKILL) while deliveries are in flight, then started again", inject: func(t *testing.T, s *system, d time.Duration) {
		s.kill("gateway")
		time.Sleep(d / 2)
		s.start("gateway")
	}},
	{name: "Every CTR delivered twice and out of order", shuffle: true, twice: true, inject: func(*testing.T, *system, time.Duration) {}},
	{name: "PostgreSQL unreachable", full: true, inject: func(t *testing.T, s *system, d time.Duration) {
		s.proxies["postgres"].Cut()
		time.Sleep(d)
		s.proxies["postgres"].Restore()
	}},
	{name: "MinIO unreachable", full: true, inject: func(t *testing.T, s *system, d time.Duration) {
		s.proxies["minio"].Cut()
		time.Sleep(d)
		s.proxies["minio"].Restore()
	}},
	{name: "Temporal server killed (SIGKILL) and started again by the stack's script (its state persisted)", full: true, inject: func(t *testing.T, s *system, d time.Duration) {
		restartTemporal(t, d)
	}},
	{name: "RabbitMQ stopped and started with its own commands", full: true, inject: func(t *testing.T, s *system, d time.Duration) {
		restartRabbitMQ(t, d)
	}},
	{name: "Late recordings: the S3 stand-in answers 404 until they land 90 s later", full: true, lateDelay: 90 * time.Second,
		inject: func(*testing.T, *system, time.Duration) {}},
	{name: "A slow S3 (1 MB/s per connection) with 30 s recordings", full: true, slowS3: 1 << 20, audioSeconds: 30,
		inject: func(*testing.T, *system, time.Duration) {}},
	// TestScaleOut freezes a worker in `make test` too.
	{name: "A worker frozen (SIGSTOP) for 75 s, past its tasks' timeouts, while the others take its work, then resumed", full: true, several: true,
		inject: func(t *testing.T, s *system, d time.Duration) {
			frozen := s.procs[s.instances("worker")[1]].Process
			if err := frozen.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			// Past the copy's 1-minute heartbeat timeout and the workflow
			// task's 10 s: the server hands its tasks to the others.
			time.Sleep(max(75*time.Second, d))
			if err := frozen.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
		}},
	{name: "Rolling restart: every worker, then every gateway, stopped (SIGTERM) and started again in turn during the day", several: true,
		inject: func(t *testing.T, s *system, d time.Duration) {
			names := append(s.instances("worker"), s.instances("gateway")...)
			for _, name := range names {
				s.restart(name, "")
				time.Sleep(d / time.Duration(len(names)))
			}
		}},
	{name: "Deploy: the new release replaces the previous one worker by worker while its runs wait for late recordings", several: true, previous: true,
		lateDelay: 60 * time.Second,
		// The kinds both releases end alike: the previous one had no
		// chats, no empty-audio check and no deleted recordings.
		mix: "inbound=0.35,outbound=0.10,transfer=0.10,abandoned=0.05,no_recording=0.05,late=0.25,resent=0.10",
		inject: func(t *testing.T, s *system, d time.Duration) {
			time.Sleep(d) // the previous release takes the first calls
			workers := s.instances("worker")
			for i, name := range workers {
				s.stop(name)
				if i == len(workers)-1 {
					s.note(fmt.Sprintf("%d conversations of the previous release (%s) were not yet final when its last worker stopped; the new release finished them",
						s.count(`SELECT count(*) FROM conversations WHERE state <> ALL($1)`, finalStates()), previousRelease))
				}
				s.resume(name, s.bin)
				time.Sleep(d / time.Duration(len(workers)))
			}
		}},
}

// faultShape is how many gateways and workers the fault scenarios run:
// FAULT_GATEWAYS and FAULT_WORKERS (`make faults` runs 2 and 3), one of
// each by default.
func faultShape() (gateways, workers int) {
	gateways, workers = 1, 1
	if v, err := strconv.Atoi(os.Getenv("FAULT_GATEWAYS")); err == nil && v > 0 {
		gateways = v
	}
	if v, err := strconv.Atoi(os.Getenv("FAULT_WORKERS")); err == nil && v > 0 {
		workers = v
	}
	return gateways, workers
}

// TestFaults runs the fault scenarios and checks the invariant after each:
// every CTR the gateway answered 200 for is exactly one conversation (its
// newest version), with exactly one MinIO object per copied recording whose
// SHA-256 matches what connectsim wrote, and exactly one analysis job per
// analysable call. `make test` runs the fast scenarios with FAULT_CALLS
// (default 40) conversations; `make faults` (FAULTS=full) runs them all with
// 200 and writes RELIABILITY.md (FAULTS_REPORT). They run on FAULT_GATEWAYS
// gateways and FAULT_WORKERS workers (one each by default), those of
// several workers on at least 2 and 3.
func TestFaults(t *testing.T) {
	full := os.Getenv("FAULTS") == "full"
	calls, outage := 40, 5*time.Second
	if full {
		calls, outage = 200, 30*time.Second
	}
	if v, err := strconv.Atoi(os.Getenv("FAULT_CALLS")); err == nil && v > 0 {
		calls = v
	}
	gateways, workers := faultShape()
	var rows []outcome
	for i, sc := range scenarios {
		if sc.full && !full {
			continue
		}
		opts := systemOptions{proxied: true, gateways: gateways, workers: workers}
		if sc.several {
			opts.gateways, opts.workers = max(gateways, 2), max(workers, 3)
		}
		t.Run(sc.name, func(t *testing.T) {
			o := runScenario(t, sc, opts, calls, outage, uint64(100+i))
			rows = append(rows, o)
			for _, n := range o.notes {
				t.Log(n)
			}
			for _, v := range o.violations {
				t.Error(v)
			}
		})
	}
	if path := os.Getenv("FAULTS_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(reliabilityReport(rows, calls, outage, gateways, workers)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runScenario(t *testing.T, sc scenario, opts systemOptions, calls int, outage time.Duration, seed uint64) outcome {
	if sc.previous {
		opts.workerBin = previousBuild(t)
	}
	s := startSystemWith(t, opts)
	tn := newTenant(testenv.Bucket(t, testenv.S3StandIn(t), "fault-rec"))
	if sc.slowS3 > 0 {
		slow := testenv.NewProxy(t, "127.0.0.1:9100")
		slow.Throttle(sc.slowS3)
		tn.S3URL = "http://" + slow.Addr()
	}
	s.addTenant(tn)
	if sc.previous {
		// However the scenario ended, the tenant's removal, which runs
		// next, needs today's workers: the previous release lacks its
		// workflows.
		t.Cleanup(func() { s.deployAll(s.bin) })
	}
	late, audio := 10*time.Second, 2
	if sc.lateDelay > 0 {
		late = sc.lateDelay
	}
	if sc.audioSeconds > 0 {
		audio = sc.audioSeconds
	}
	logPath := filepath.Join(t.TempDir(), "sent.jsonl")
	day := []string{"day", "--count", strconv.Itoa(calls), "--seed", strconv.FormatUint(seed, 10),
		"--gateway", s.firehoseURLs(), "--access-key", tn.AccessKey, "--instance-arn", tn.InstanceARN,
		"--bucket", tn.Bucket, "--batch", "10", "--late-delay", late.String(), "--audio-seconds", strconv.Itoa(audio), "--quiet",
		"--retry-window", "5m",
		// Spread the day over twice the outage, so that CTRs keep arriving
		// while the fault lasts and after it ends.
		"--rate", strconv.FormatFloat(float64(calls)/(2*outage.Seconds()+5), 'f', 2, 64)}
	if sc.shuffle {
		day = append(day, "--shuffle")
	}
	if sc.mix != "" {
		day = append(day, "--mix", sc.mix)
	}
	again := day
	day = append(day[:len(day):len(day)], "--log", logPath)
	// connectsim sends while the fault strikes; it retries every delivery
	// until the gateway answers 200, as Firehose does.
	cmd := exec.Command(filepath.Join(s.bin, "connectsim"), day...)
	cmd.Env = s.env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	sc.inject(t, s, outage)
	restored := time.Now()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("connectsim: %v\n%s", err, out.String())
	}
	if sc.twice {
		s.run("connectsim", again...) // the same day again, unlogged
	}
	// Recovery counts from when the fault had ended and every delivery
	// was answered 200, until every conversation settled.
	from := time.Now()
	if restored.After(from) {
		from = restored
	}
	sentLog := readLog(t, logPath)
	contacts := map[string]bool{}
	for _, r := range sentLog {
		contacts[r.ContactID] = true
	}
	// A system that lost conversations never settles: the invariant then
	// says which.
	settleErr := s.settle(tn.ID, len(contacts), 4*time.Minute)
	if sc.twice && settleErr == nil {
		testenv.WaitSettled(t, s.health, 0, tn.ID)
	}
	settled := time.Now()
	o := checkInvariant(t, s, tn.ID, sentLog)
	if settleErr != nil {
		o.violations = append([]string{"not settled " + settleErr.Error()}, o.violations...)
	}
	o.scenario, o.recovery, o.notes = sc.name, settled.Sub(from).Round(time.Second), s.notes
	if sc.twice {
		o.ctrs *= 2 // the second delivery of the day is not logged
	}
	return o
}

// checkInvariant computes the invariant from Postgres, MinIO, RabbitMQ and
// connectsim's log of what it sent.
func checkInvariant(t *testing.T, s *system, tenant string, sentLog []sent) outcome {
	return checkInvariantWith(t, s, tenant, sentLog, jobCounts(t, testenv.Drain(t, s.analysis, 10*len(sentLog)+10)))
}

// checkInvariantWith checks one tenant against analysis jobs already
// drained and counted by contact, for systems that serve several tenants
// on one analysis queue.
func checkInvariantWith(t *testing.T, s *system, tenant string, sentLog []sent, jobs map[string]int) outcome {
	ctx := context.Background()
	o := outcome{ctrs: len(sentLog)}
	kinds, sums, newest := map[string]string{}, map[string]string{}, map[string]int{}
	for _, r := range sentLog {
		kinds[r.ContactID] = r.Kind
		if r.RecordingSHA256 != "" {
			sums[r.ContactID] = r.RecordingSHA256
		}
		newest[r.ContactID] = max(newest[r.ContactID], r.Version)
	}
	o.conversations = len(kinds)
	violate := func(format string, args ...any) { o.violations = append(o.violations, fmt.Sprintf(format, args...)) }

	convs := store.NewConversations(s.pool)
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE tenant_id = $1`, tenant).Scan(&o.rows); err != nil {
		t.Fatal(err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM rejected_records WHERE tenant_id = $1`, tenant).Scan(&o.quarantined); err != nil {
		t.Fatal(err)
	}
	if o.rows != o.conversations {
		violate("%d conversation rows for %d conversations sent", o.rows, o.conversations)
	}
	for id, kind := range kinds {
		c, _, err := convs.Get(ctx, tenant, id)
		if err != nil {
			violate("%s %s: %v", kind, id, err)
			continue
		}
		if kind == "resent" && c.Attributes["wrapup_code"] != "resolved" {
			violate("%s: an older CTR version is stored", id)
		}
		if analysable[kind] {
			o.expectedObject++
			o.expectedJobs++
			if c.State != conversation.Enqueued {
				violate("%s %s ended %s %s", kind, id, c.State, c.StateDetail)
			}
		}
	}

	// MinIO: exactly one object per copied recording, with the source's hash.
	rs := testenv.RecordingStore(t)
	perContact := map[string]int{}
	for obj := range rs.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: tenant + "/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		o.objects++
		parts := strings.Split(obj.Key, "/")
		contact := parts[len(parts)-2]
		perContact[contact]++
		body, err := rs.GetObject(ctx, s.bucket, obj.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, body); err != nil {
			t.Fatal(err)
		}
		body.Close()
		if got := hex.EncodeToString(h.Sum(nil)); got != sums[contact] {
			violate("object %s: sha256 %s, connectsim wrote %s", obj.Key, got, sums[contact])
		}
	}
	for id, kind := range kinds {
		if analysable[kind] && perContact[id] != 1 {
			violate("%s %s: %d objects in MinIO, want 1", kind, id, perContact[id])
		}
		if !analysable[kind] && perContact[id] != 0 {
			violate("%s %s: %d objects in MinIO, want none", kind, id, perContact[id])
		}
	}

	// RabbitMQ: exactly one analysis job per analysable conversation.
	for id, kind := range kinds {
		o.jobs += jobs[id]
		want := 0
		if analysable[kind] {
			want = 1
		}
		if jobs[id] != want {
			violate("%s %s: %d analysis jobs, want %d", kind, id, jobs[id], want)
		}
	}
	return o
}

// restartRabbitMQ stops the machine's RabbitMQ application and starts it
// again with rabbitmqctl; its quorum queues keep their messages.
func restartRabbitMQ(t *testing.T, down time.Duration) {
	start := func() error {
		if out, err := exec.Command("rabbitmqctl", "start_app").CombinedOutput(); err != nil {
			return fmt.Errorf("rabbitmqctl start_app: %w %s", err, out)
		}
		return nil
	}
	t.Cleanup(func() { // whatever happens next, RabbitMQ comes back
		if err := start(); err != nil {
			t.Error(err)
		}
	})
	if out, err := exec.Command("rabbitmqctl", "stop_app").CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl stop_app: %v %s", err, out)
	}
	time.Sleep(down)
	if err := start(); err != nil {
		t.Fatal(err)
	}
}

// restartTemporal kills the stack's Temporal server (the dev server, or
// the full server with TEMPORAL=postgres) and starts it again with the
// stack's own script; its store, SQLite or PostgreSQL, keeps every workflow.
func restartTemporal(t *testing.T, down time.Duration) {
	pid := stackPID(t, "temporal")
	restart := func() error {
		cmd := exec.Command("scripts/stack.sh")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("restart the stack: %w\n%s", err, out)
		}
		return nil
	}
	// Whatever happens next, the stack comes back (a no-op when it is up).
	t.Cleanup(func() {
		if err := restart(); err != nil {
			t.Error(err)
		}
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill temporal: %v", err)
	}
	time.Sleep(down)
	if err := restart(); err != nil {
		t.Fatal(err)
	}
}

// temporalShape names the Temporal the suite ran against (make faults
// TEMPORAL=postgres runs it on the full server on PostgreSQL).
func temporalShape() string {
	if os.Getenv("TEMPORAL") == "postgres" {
		return "the full server on PostgreSQL (`make faults TEMPORAL=postgres`)"
	}
	return "the dev server (`make faults`)"
}

// reliabilityReport renders RELIABILITY.md.
func reliabilityReport(rows []outcome, calls int, outage time.Duration, gateways, workers int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Reliability\n\nWritten by `make faults` on %s: each scenario sends a seeded day of %d conversations\n", time.Now().UTC().Format("2006-01-02"), calls)
	fmt.Fprintf(&b, "from connectsim through the real gateway and worker (each outage lasts %s), then checks the invariant:\n", outage)
	b.WriteString("every CTR answered 200 is exactly one conversation with its newest version, exactly one MinIO object per copied\n")
	b.WriteString("recording whose SHA-256 matches the source, and exactly one analysis job per analysable conversation.\n")
	b.WriteString("Recovery is the time from when the fault had ended and Firehose's last delivery was answered 200 until every\n")
	b.WriteString("conversation reached a final state. A run that loses conversations never settles, and fails.\n\n")
	fmt.Fprintf(&b, "Temporal: %s. Programs: %d gateway(s) behind one Firehose endpoint list, %d worker(s) on one task queue.\n\n",
		temporalShape(), gateways, workers)
	b.WriteString("| Scenario | Conversations | CTRs sent | Rows | Objects (expected) | Analysis jobs (expected) | Quarantined | Recovery | Result |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, o := range rows {
		result := "pass"
		if !o.pass() {
			result = fmt.Sprintf("**fail** (%d violations)", len(o.violations))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d (%d) | %d (%d) | %d | %s | %s |\n", o.scenario, o.conversations, o.ctrs, o.rows,
			o.objects, o.expectedObject, o.jobs, o.expectedJobs, o.quarantined, o.recovery, result)
	}
	for _, o := range rows {
		for _, n := range o.notes {
			fmt.Fprintf(&b, "\n- %s: %s\n", o.scenario, n)
		}
	}
	for _, o := range rows {
		if !o.pass() {
			fmt.Fprintf(&b, "\n## %s: violations\n\n", o.scenario)
			for _, v := range o.violations {
				fmt.Fprintf(&b, "- %s\n", v)
			}
		}
	}
	return b.String()
}

// previousRelease is the commit the deploy scenario deploys over: the last
// before the conversation workflow gained the remove-deleted-recordings
// change (a workflow.GetVersion), the chats, the audio and several
// instances per tenant, so that runs it started replay on today's code.
const previousRelease = "3e287e7"

// previousBuild builds the worker of previousRelease from this repository's
// history into a directory of its own.
func previousBuild(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := exec.Command("sh", "-c", "git archive --format=tar "+previousRelease+" | tar -x -C "+src)
	archive.Dir = ".."
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("the previous release %s from git (a clone with its history is needed): %v\n%s", previousRelease, err, out)
	}
	build := exec.Command("go", "build", "-o", dir+"/", "./worker")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the previous release's worker: %v\n%s", err, out)
	}
	return dir
}

// finalStates are the names of the conversation states a run ends in.
func finalStates() []string {
	var out []string
	for _, st := range conversation.States() {
		if st.Final() {
			out = append(out, st.String())
		}
	}
	return out
}
