package e2e

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// binaries builds the programs once per test binary.
func binaries(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "./gateway", "./worker", "./cmd/connectsim", "./cmd/ingestctl")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build programs: %v\n%s", err, out)
	}
	return dir
}

// system is the gateway and the worker running as processes on their own
// database, queues, task queue and buckets.
type system struct {
	t        testing.TB
	bin      string
	env      []string
	pool     *pgxpool.Pool
	gateway  string
	admin    string
	analysis string
	bucket   string // the recording store bucket in MinIO
	procs    map[string]*exec.Cmd
	killed   map[*exec.Cmd]bool
	logs     map[*exec.Cmd]string
	health   string // the first worker's health and metrics listener
	// gateways are the Firehose listeners of every gateway, the first
	// one's included.
	gateways []string
	// specs say how each instance was started, so that it starts again
	// the same way after a kill or a restart; order names them in the
	// order they first started.
	specs map[string]instance
	order []string
	// notes are what a fault scenario measured, for its report.
	notes []string
	// proxies stand between the programs and PostgreSQL, RabbitMQ and
	// MinIO when the system is started with them, so that a test can take
	// one away from the programs alone.
	proxies map[string]*testenv.Proxy
}

// systemOptions vary how startSystemWith starts the programs.
type systemOptions struct {
	// proxied routes the programs' PostgreSQL, RabbitMQ and MinIO through
	// proxies (system.proxies: "postgres", "rabbitmq", "minio").
	proxied bool
	// gateways and workers are how many of each run (one when zero): the
	// first are named "gateway" and "worker", the others "gateway-2",
	// "worker-2" and so on, each on listeners of its own.
	gateways, workers int
	// workerBin, when set, is a directory holding another build of the
	// worker (a previous release) that the workers start from.
	workerBin string
}

// instance is how one program instance runs: which build of which
// program, with what added to the system's environment, and the listener
// that serves its /readyz and /metrics (empty for a program with none).
type instance struct {
	bin, program string
	env, args    []string
	admin        string
}

func startSystem(t testing.TB) *system {
	t.Helper()
	return startSystemWith(t, systemOptions{})
}

func startSystemWith(t testing.TB, o systemOptions) *system {
	t.Helper()
	bin := binaries(t)
	pool, dsn := testenv.Database(t)
	ctrQueue := testenv.Queues(t)
	s := &system{
		t: t, bin: bin, pool: pool, gateway: testenv.FreeAddr(t), admin: testenv.FreeAddr(t),
		analysis: ctrQueue + ".analysis", bucket: testenv.Bucket(t, testenv.RecordingStore(t), "recordings"),
		health: testenv.FreeAddr(t),
	}
	testenv.DeleteQueueAtEnd(t, s.analysis)
	s.env = append(os.Environ(),
		"DATABASE_URL="+dsn,
		"AMQP_CTR_QUEUE="+ctrQueue,
		"AMQP_ANALYSIS_QUEUE="+s.analysis,
		"TEMPORAL_TASK_QUEUE=e2e-"+testenv.Suffix(),
		"MINIO_BUCKET="+s.bucket,
		"GATEWAY_LISTEN_ADDR="+s.gateway,
		"GATEWAY_ADMIN_ADDR="+s.admin,
		"WORKER_HEALTH_ADDR="+s.health,
		"WORKER_ADMIN_ADDR="+testenv.FreeAddr(t),
		"RECORDING_WAIT_WINDOW=2m",
		"CONNECT_API_RATE=1000", "CONNECT_API_BURST=100",
		"LOG_LEVEL=warn",
	)
	if o.proxied {
		s.proxies = map[string]*testenv.Proxy{
			"postgres": testenv.NewProxy(t, "127.0.0.1:5432"),
			"rabbitmq": testenv.NewProxy(t, "127.0.0.1:5672"),
			"minio":    testenv.NewProxy(t, "127.0.0.1:9000"),
		}
		s.env = append(s.env,
			"DATABASE_URL="+strings.Replace(dsn, "127.0.0.1:5432", s.proxies["postgres"].Addr(), 1),
			"AMQP_URL=amqp://guest:guest@"+s.proxies["rabbitmq"].Addr()+"/",
			"MINIO_ENDPOINT="+s.proxies["minio"].Addr(),
		)
	}
	workerBin := cmp.Or(o.workerBin, bin)
	if o.workerBin != "" {
		// A deploy migrates first; the previous release then runs on the
		// new schema, which only ever adds to what it reads.
		s.run("ingestctl", "migrate")
	}
	s.launch("worker", instance{bin: workerBin, program: "worker", admin: s.health})
	for i := 2; i <= o.workers; i++ {
		health := testenv.FreeAddr(t)
		s.launch(fmt.Sprintf("worker-%d", i), instance{bin: workerBin, program: "worker", admin: health,
			env: []string{"WORKER_HEALTH_ADDR=" + health, "WORKER_ADMIN_ADDR=" + testenv.FreeAddr(t)}})
	}
	s.gateways = []string{s.gateway}
	s.launch("gateway", instance{program: "gateway", admin: s.admin})
	for i := 2; i <= o.gateways; i++ {
		addr, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
		s.gateways = append(s.gateways, addr)
		s.launch(fmt.Sprintf("gateway-%d", i), instance{program: "gateway", admin: admin,
			env: []string{"GATEWAY_LISTEN_ADDR=" + addr, "GATEWAY_ADMIN_ADDR=" + admin}})
	}
	for _, name := range s.order {
		s.waitReady(name)
	}
	return s
}

// instances names the instances of a program, in the order they first
// started: "worker", "worker-2" and so on.
func (s *system) instances(program string) []string {
	var names []string
	for _, name := range s.order {
		if s.specs[name].program == program {
			names = append(names, name)
		}
	}
	return names
}

// waitReady waits until an instance answers its readiness check; a
// program with none is ready once started.
func (s *system) waitReady(name string) {
	s.t.Helper()
	if admin := s.specs[name].admin; admin != "" {
		testenv.WaitHTTP(s.t, "http://"+admin+"/readyz", 200)
	}
}

// firehoseURLs are the gateways' Firehose endpoints as connectsim's
// --gateway flag takes them.
func (s *system) firehoseURLs() string {
	urls := make([]string, len(s.gateways))
	for i, g := range s.gateways {
		urls[i] = "http://" + g + "/firehose"
	}
	return strings.Join(urls, ",")
}

// launch runs a new instance called name as spec says (the system's own
// build when spec names none) until the test ends, then stops it with
// SIGTERM and expects a clean exit. The programs stop together, after
// every clean-up registered since the first of them started (a tenant's
// removal needs its worker), whichever of them were restarted meanwhile.
func (s *system) launch(name string, spec instance) {
	s.t.Helper()
	if _, ok := s.specs[name]; ok {
		s.t.Fatalf("%s launched twice", name)
	}
	if s.specs == nil {
		s.specs = map[string]instance{}
	}
	spec.bin = cmp.Or(spec.bin, s.bin)
	s.specs[name] = spec
	s.order = append(s.order, name)
	s.startInstance(name)
}

// start runs an instance killed or stopped before again, as it was
// launched.
func (s *system) start(name string) {
	s.t.Helper()
	if _, ok := s.specs[name]; !ok {
		s.t.Fatalf("%s was never launched", name)
	}
	s.startInstance(name)
}

// startInstance runs the instance called name as its spec says.
func (s *system) startInstance(name string) {
	s.t.Helper()
	spec := s.specs[name]
	cmd := exec.Command(filepath.Join(spec.bin, spec.program), spec.args...)
	cmd.Env = append(append([]string(nil), s.env...), spec.env...)
	logf, err := os.Create(filepath.Join(s.t.TempDir(), name+".log"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	if s.procs == nil {
		s.procs = map[string]*exec.Cmd{}
		s.logs = map[*exec.Cmd]string{}
		s.t.Cleanup(s.stopAll)
	}
	s.procs[name] = cmd
	s.logs[cmd] = logf.Name()
}

// stopAll stops every program still running with SIGTERM, each expected
// to exit cleanly within 40 s.
func (s *system) stopAll() {
	for name, cmd := range s.procs {
		if s.killed[cmd] {
			continue
		}
		if err := s.terminate(cmd); err != nil {
			s.t.Errorf("%s %v (log %s)", name, err, s.logs[cmd])
		}
	}
}

// kill stops a program with SIGKILL, as a crash would; start runs it again.
func (s *system) kill(name string) {
	s.t.Helper()
	cmd := s.procs[name]
	s.exited(cmd)
	if err := cmd.Process.Kill(); err != nil {
		s.t.Fatalf("kill %s: %v", name, err)
	}
	_ = cmd.Wait()
}

// stop stops a program as a deploy does, with SIGTERM, and expects it to
// exit cleanly within 40 s; start runs it again.
func (s *system) stop(name string) {
	s.t.Helper()
	cmd := s.procs[name]
	s.exited(cmd)
	if err := s.terminate(cmd); err != nil {
		s.t.Fatalf("stop %s: %v (log %s)", name, err, s.logs[cmd])
	}
}

// restart stops a program with SIGTERM and starts it again from build
// (empty: the build it ran), waiting until it is ready: one step of a
// rolling restart or of a deploy.
func (s *system) restart(name, build string) {
	s.t.Helper()
	s.stop(name)
	s.resume(name, build)
}

// resume starts a stopped program again from build (empty: the build it
// ran), waiting until it is ready.
func (s *system) resume(name, build string) {
	s.t.Helper()
	if build != "" {
		spec := s.specs[name]
		spec.bin = build
		s.specs[name] = spec
	}
	s.startInstance(name)
	s.waitReady(name)
}

// deployAll runs every worker from build: those on another build are
// restarted on it, those stopped started again.
func (s *system) deployAll(build string) {
	s.t.Helper()
	for _, name := range s.instances("worker") {
		switch {
		case s.killed[s.procs[name]]:
			s.resume(name, build)
		case s.specs[name].bin != build:
			s.restart(name, build)
		}
	}
}

func (s *system) exited(cmd *exec.Cmd) {
	if s.killed == nil {
		s.killed = map[*exec.Cmd]bool{}
	}
	s.killed[cmd] = true
}

// terminate sends SIGTERM and waits up to 40 s for a clean exit.
func (s *system) terminate(cmd *exec.Cmd) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("did not stop cleanly: %w", err)
		}
		return nil
	case <-time.After(40 * time.Second):
		_ = cmd.Process.Kill()
		return errors.New("did not stop within 40s of SIGTERM")
	}
}

// run runs a program to completion and returns its standard output.
func (s *system) run(name string, args ...string) string {
	s.t.Helper()
	// No command of the tests takes minutes; one that hangs fails the
	// test instead of holding it until the package's timeout.
	return s.runWithin(5*time.Minute, name, args...)
}

// runWithin runs a program to its end, bounded by within.
func (s *system) runWithin(within time.Duration, name string, args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Env = s.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// try runs a program to its end, like run, and returns its output and
// error instead of failing the test: for commands whose failure is the
// point.
func (s *system) try(name string, args ...string) (string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sent is one line of connectsim's log.
type sent struct {
	ContactID         string `json:"contactId"`
	Kind              string `json:"kind"`
	Version           int    `json:"version"`
	RecordingLocation string `json:"recordingLocation"`
	RecordingSHA256   string `json:"recordingSha256"`
	// Dropped marks a contact whose CTRs were never sent (day --drop).
	Dropped bool `json:"dropped"`
}

func readLog(t *testing.T, path string) []sent {
	t.Helper()
	var out []sent
	for _, l := range readJSONLines(t, path) {
		var s sent
		if err := json.Unmarshal(l, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// readJSONLines returns the lines of a JSON-lines file.
func readJSONLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// note keeps a figure a scenario measured for the report.
func (s *system) note(n string) { s.notes = append(s.notes, n) }

// count runs a query that counts.
func (s *system) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// waitSettled polls until no conversation is in a transient state, or fails.
func (s *system) waitSettled(tenant string, want int, within time.Duration) {
	s.t.Helper()
	if err := s.settle(tenant, want, within); err != nil {
		s.t.Fatal(err)
	}
}

// settle polls until want conversations are stored and none is in a
// transient state, or says how far it got.
func (s *system) settle(tenant string, want int, within time.Duration) error {
	s.t.Helper()
	deadline := time.Now().Add(within)
	var settled, total int
	for time.Now().Before(deadline) {
		err := s.pool.QueryRow(context.Background(), `
			SELECT count(*) FILTER (WHERE state = ANY($2)), count(*)
			FROM conversations WHERE tenant_id = $1`, tenant, finalStates()).Scan(&settled, &total)
		if err != nil {
			s.t.Fatal(err)
		}
		if total == want && settled == want {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("after %v: %d of %d conversations settled, %d stored", within, settled, want, total)
}

// e2eTenant is a tenant whose recordings are on the S3 stand-in.
type e2eTenant struct {
	ID, InstanceARN, AccessKey, Bucket string
	// ConnectURL is the Connect API stand-in serving the instance.
	ConnectURL string
	// S3URL is where the worker reaches the tenant's S3; empty is the
	// stand-in itself.
	S3URL string
}

func newTenant(bucket string) e2eTenant {
	id := "e2e" + testenv.Suffix()
	return e2eTenant{
		ID: id, Bucket: bucket,
		InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/" + id,
		AccessKey:   fmt.Sprintf("e2e-key-%s-0123456789abcdef", id),
	}
}

// addArgs is the ingestctl command line that creates the tenant: its
// agent sync reads the Connect stand-in when one serves it, and is off
// otherwise.
func (e e2eTenant) addArgs() []string {
	s3 := e.S3URL
	if s3 == "" {
		s3 = "http://127.0.0.1:9100"
	}
	args := []string{"tenants", "add", "--id", e.ID, "--name", "E2E " + e.ID, "--instance-arn", e.InstanceARN,
		"--recording-bucket", e.Bucket, "--access-key", e.AccessKey, "--aws-endpoint-url", s3}
	if e.ConnectURL == "" {
		return append(args, "--sync=false")
	}
	return append(args, "--connect-endpoint-url", e.ConnectURL)
}

// addTenant creates the tenant with ingestctl, and removes it with its
// agent-sync schedule when the test ends: schedules live on the shared
// Temporal server.
func (s *system) addTenant(e e2eTenant) {
	s.t.Helper()
	s.run("ingestctl", e.addArgs()...)
	// Removing a tenant erases every call it has, histories included: a
	// burst of thousands takes minutes on the full server.
	s.t.Cleanup(func() { s.runWithin(30*time.Minute, "ingestctl", "tenants", "remove", e.ID, "--yes") })
}

// serveConnect runs `connectsim serve` as the tenant's Amazon Connect API,
// with 50 users, unthrottled, and any further flags.
func (s *system) serveConnect(e *e2eTenant, flags ...string) {
	s.t.Helper()
	addr := testenv.FreeAddr(s.t)
	s.launch("connectsim-"+e.ID, instance{program: "connectsim",
		args: append([]string{"serve", "--addr", addr, "--instance-id", e.ID, "--users", "50", "--rate", "0"}, flags...)})
	e.ConnectURL = "http://" + addr
}

type amqpDelivery = amqp.Delivery

// stackPID is the pid of a service the stack started (scripts/stack.sh).
func stackPID(tb testing.TB, service string) int {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(stackState(), "run", service+".pid"))
	if err != nil {
		tb.Fatalf("the stack's %s pid: %v", service, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		tb.Fatal(err)
	}
	return pid
}

// stackState is the stack's state directory (scripts/env.sh).
func stackState() string {
	if dir := os.Getenv("CONNECT_INGEST_STATE"); dir != "" {
		return dir
	}
	return filepath.Join(os.Getenv("HOME"), ".local/state/connect-ingest")
}
