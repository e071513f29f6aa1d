package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/wav"
)

// sentRecord is one line of the --log file: what was sent, for checkers.
type sentRecord struct {
	ContactID         string `json:"contactId"`
	Kind              string `json:"kind"`
	Version           int    `json:"version"`
	RecordingLocation string `json:"recordingLocation,omitempty"`
	RecordingSHA256   string `json:"recordingSha256,omitempty"`
	// Dropped marks a contact whose CTRs were never sent (--drop).
	Dropped bool      `json:"dropped,omitempty"`
	SentAt  time.Time `json:"sentAt"`
}

type dayFlags struct {
	count        int
	rate         float64
	seed         uint64
	mix          string
	gzip         bool
	batch        int
	gateways     []string
	accessKey    string
	instanceARN  string
	replicaARN   string
	kmsKey       string
	replicaShare float64
	bucket       string
	alias        string
	s3Endpoint   string
	s3AccessKey  string
	s3SecretKey  string
	region       string
	audioSeconds float64
	lateDelay    time.Duration
	createBucket bool
	logFile      string
	quiet        bool
	shuffle      bool
	retryWindow  time.Duration
	drop         float64
	contactsFile string
	date         string
	agentEvents  bool
}

func (a *app) dayCmd() *cobra.Command {
	var f dayFlags
	cmd := &cobra.Command{
		Use:   "day",
		Short: "Generate a day of contacts: recordings into S3, CTRs to the gateway as Firehose",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.day(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.count, "count", 50, "contacts to generate")
	fl.Float64Var(&f.rate, "rate", 0, "contacts per second (0: as fast as the gateway takes them)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed: the same seed generates the same day")
	fl.StringVar(&f.mix, "mix", defaultMix, "share of each kind of contact")
	fl.BoolVar(&f.gzip, "gzip", true, "gzip request bodies, as a Firehose stream with compression does")
	fl.IntVar(&f.batch, "batch", 100, "CTRs per Firehose delivery")
	fl.StringSliceVar(&f.gateways, "gateway", []string{"http://127.0.0.1:8080/firehose"},
		"the gateway's Firehose endpoint; several (repeated or comma-separated) take the deliveries in turn, as a load balancer in front of several gateways does")
	fl.StringVar(&f.accessKey, "access-key", "", "the tenant's Firehose access key (required)")
	fl.StringVar(&f.instanceARN, "instance-arn", "", "the tenant's Connect instance ARN (required)")
	fl.StringVar(&f.replicaARN, "replica-arn", "", "a Global Resiliency replica of the instance, which takes a share of the contacts")
	fl.Float64Var(&f.replicaShare, "replica-share", 0.2, "the share of contacts the replica takes, when --replica-arn is set")
	fl.StringVar(&f.bucket, "bucket", "", "the tenant's recording bucket (required)")
	fl.StringVar(&f.kmsKey, "kms-key", "", "mark recordings encrypted with this KMS key (SSE-KMS), for `connectsim s3-role` to judge")
	fl.StringVar(&f.alias, "alias", "demo", "the Connect instance alias in recording keys")
	fl.StringVar(&f.s3Endpoint, "s3-endpoint", "http://127.0.0.1:9100", "S3 endpoint (the local stand-in)")
	fl.StringVar(&f.s3AccessKey, "s3-access-key", a.getenv("S3_STANDIN_ACCESS_KEY"), "S3 access key")
	fl.StringVar(&f.s3SecretKey, "s3-secret-key", a.getenv("S3_STANDIN_SECRET_KEY"), "S3 secret key")
	fl.StringVar(&f.region, "region", "eu-west-2", "AWS region")
	fl.Float64Var(&f.audioSeconds, "audio-seconds", 5, "length of each recording")
	fl.DurationVar(&f.lateDelay, "late-delay", 20*time.Second, "how long after its CTR a late recording lands")
	fl.BoolVar(&f.createBucket, "create-bucket", false, "create the recording bucket where missing")
	fl.StringVar(&f.logFile, "log", "", "write one JSON line per CTR sent to this file")
	fl.BoolVar(&f.shuffle, "shuffle", false, "send the day's CTR versions in a seeded random order, older versions after newer ones included")
	fl.DurationVar(&f.retryWindow, "retry-window", 2*time.Minute, "how long a delivery is retried until the gateway answers 200, as Firehose's retry duration")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fl.Float64Var(&f.drop, "drop", 0, "share of contacts (0 to 1, seeded) whose CTRs Firehose never delivers; their recordings still land")
	fl.BoolVar(&f.agentEvents, "agent-events", false, "interleave the day's agent events (LOGIN, STATE_CHANGE, HEART_BEAT, LOGOUT) with the CTRs, as one stream carrying both does")
	fl.StringVar(&f.date, "date", "", "the day the contacts happened, YYYY-MM-DD (default today, UTC)")
	fl.StringVar(&f.contactsFile, "contacts", "", "append each contact, as Connect keeps it, to this file for `connectsim serve --contacts`")
	for _, name := range []string{"access-key", "instance-arn", "bucket"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func (a *app) day(ctx context.Context, f dayFlags) error {
	mix, err := parseMix(f.mix)
	if err != nil {
		return err
	}
	if f.drop < 0 || f.drop > 1 {
		return fmt.Errorf("--drop %v: want a share from 0 to 1", f.drop)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	if f.date != "" {
		if day, err = time.Parse(time.DateOnly, f.date); err != nil {
			return fmt.Errorf("--date: %w", err)
		}
	}
	if f.s3AccessKey == "" {
		f.s3AccessKey, f.s3SecretKey = "connectsim", "connectsim-secret"
	}
	contacts := plan(dayOptions{
		Count: f.count, Seed: f.seed, Mix: mix, InstanceARN: f.instanceARN, Bucket: f.bucket, Alias: f.alias,
		Day: day, AudioSeconds: f.audioSeconds, ReplicaARN: f.replicaARN, ReplicaShare: f.replicaShare,
	})
	s3c, err := newS3(ctx, f)
	if err != nil {
		return err
	}
	if f.createBucket {
		if err := ensureBucket(ctx, s3c, f.bucket); err != nil {
			return err
		}
	}
	var log *json.Encoder
	if f.logFile != "" {
		file, err := os.Create(f.logFile)
		if err != nil {
			return err
		}
		defer file.Close()
		log = json.NewEncoder(file)
	}
	var known *json.Encoder
	if f.contactsFile != "" {
		file, err := os.OpenFile(f.contactsFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer file.Close()
		known = json.NewEncoder(file)
	}
	dropRNG := rand.New(rand.NewPCG(f.seed, 0xd409))

	fh := &firehoseClient{urls: f.gateways, accessKey: f.accessKey, gzip: f.gzip, retryWindow: f.retryWindow,
		sourceARN: "arn:aws:firehose:" + f.region + ":111122223333:deliverystream/connectsim", http: &http.Client{}}
	var bar *progressbar.ProgressBar
	if !f.quiet {
		bar = progressbar.NewOptions(len(contacts), progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("contacts"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	limiter := rate.NewLimiter(rate.Inf, 1)
	if f.rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(f.rate), 1)
	}

	sums := map[string]string{}
	var late sync.WaitGroup
	var lateErr error
	var lateMu sync.Mutex
	var pending [][]byte
	var pendingLog []sentRecord
	// With --shuffle, versions wait here and go out in a random order.
	type queued struct {
		ctr []byte
		rec sentRecord
	}
	var shuffled []queued
	batches, sent, uploaded, dropped := 0, 0, 0, 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := fh.post(ctx, pending); err != nil {
			return err
		}
		batches++
		sent += len(pendingLog)
		for _, r := range pendingLog {
			r.SentAt = time.Now().UTC()
			if log != nil {
				if err := log.Encode(r); err != nil {
					return err
				}
			}
		}
		pending, pendingLog = pending[:0], pendingLog[:0]
		return nil
	}
	// With --agent-events the day's agents log in first, change state as
	// each takes a call, and send their heartbeats and log out last, on the
	// same stream as the CTRs.
	agentEvents := 0
	event := func(u connectapi.User, typ string, at time.Time, status, statusType string) {
		pending = append(pending, ctrtest.AgentEvent(ctrtest.AgentEventOptions{InstanceARN: f.instanceARN, UserID: u.ID, Username: u.Username,
			Type: typ, At: at, Status: status, StatusType: statusType}))
		agentEvents++
	}
	if f.agentEvents {
		for _, u := range agents {
			event(u, ctr.AgentLogin, day.Add(8*time.Hour), "Available", "ROUTABLE")
		}
	}
	for i, c := range contacts {
		if err := limiter.Wait(ctx); err != nil {
			return err
		}
		if f.agentEvents {
			u := agents[i%len(agents)]
			event(u, ctr.AgentStateChange, day.Add(8*time.Hour+time.Duration(i)*time.Minute), "Available", "ROUTABLE")
		}
		if r := c.Recording; r != nil {
			sum, err := recordingSum(r, c.ID)
			if err != nil {
				return err
			}
			sums[c.ID] = sum
			if r.Late {
				late.Add(1)
				go func() {
					defer late.Done()
					select {
					case <-ctx.Done():
						return
					case <-time.After(f.lateDelay):
					}
					if err := upload(ctx, s3c, f.bucket, r, c.ID, f.kmsKey); err != nil {
						lateMu.Lock()
						lateErr = errors.Join(lateErr, err)
						lateMu.Unlock()
					}
				}()
			} else {
				if err := upload(ctx, s3c, f.bucket, r, c.ID, f.kmsKey); err != nil {
					return err
				}
				uploaded++
			}
		}
		// Connect knows the contact once it has ended, whether or not
		// Firehose delivers its CTR.
		if known != nil {
			v, err := c.connectView()
			if err != nil {
				return err
			}
			if err := known.Encode(v); err != nil {
				return err
			}
		}
		if f.drop > 0 && dropRNG.Float64() < f.drop {
			dropped++
			if log != nil {
				rec := sentRecord{ContactID: c.ID, Kind: c.Kind, Dropped: true}
				if c.Recording != nil && c.Kind != kindDeleted {
					rec.RecordingLocation, rec.RecordingSHA256 = c.Recording.Location(f.bucket), sums[c.ID]
				}
				if err := log.Encode(rec); err != nil {
					return err
				}
			}
			if bar != nil {
				_ = bar.Add(1)
			}
			continue
		}
		for i, v := range c.Versions {
			rec := sentRecord{ContactID: c.ID, Kind: c.Kind, Version: i}
			if c.Recording != nil && c.Kind != kindDeleted {
				rec.RecordingLocation, rec.RecordingSHA256 = c.Recording.Location(f.bucket), sums[c.ID]
			}
			if f.shuffle {
				shuffled = append(shuffled, queued{v, rec})
				continue
			}
			pending = append(pending, v)
			pendingLog = append(pendingLog, rec)
			if len(pending) >= f.batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	rng := rand.New(rand.NewPCG(f.seed, 0x5eed))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, q := range shuffled {
		pending = append(pending, q.ctr)
		pendingLog = append(pendingLog, q.rec)
		if len(pending) >= f.batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if f.agentEvents {
		for _, u := range agents {
			event(u, ctr.AgentHeartBeat, day.Add(18*time.Hour), "Available", "ROUTABLE")
			event(u, ctr.AgentLogout, day.Add(18*time.Hour+time.Minute), "Offline", "OFFLINE")
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if agentEvents > 0 {
		fmt.Fprintf(a.stdout, "agent events: %d sent on the same stream\n", agentEvents)
	}
	lateCount := 0
	for _, c := range contacts {
		if c.Recording != nil && c.Recording.Late {
			lateCount++
		}
	}
	if lateCount > 0 {
		fmt.Fprintf(a.stderr, "waiting %v for %d late recordings to land...\n", f.lateDelay, lateCount)
	}
	late.Wait()
	if lateErr != nil {
		return lateErr
	}
	a.summary(contacts, batches, sent, uploaded, lateCount, fh.retries)
	if dropped > 0 {
		fmt.Fprintf(a.stdout, "dropped: %d contacts' CTRs never delivered (--drop %v)\n", dropped, f.drop)
	}
	return nil
}

func (a *app) summary(contacts []contact, batches, sent, uploaded, late, retries int) {
	byKind := map[string]int{}
	for _, c := range contacts {
		byKind[c.Kind]++
	}
	names := make([]string, 0, len(byKind))
	for k := range byKind {
		names = append(names, k)
	}
	sort.Strings(names)
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "connectsim: %d contacts, %d CTRs in %d Firehose deliveries (%d retried), %d recordings on time, %d late\n",
		len(contacts), sent, batches, retries, uploaded, late)
	for _, k := range names {
		fmt.Fprintf(w, "  %s\t%d\n", k, byKind[k])
	}
	_ = w.Flush()
}

// recordingSum is the SHA-256 of the recording upload writes for contactID.
func recordingSum(r *plannedRecording, contactID string) (string, error) {
	h := sha256.New()
	if r.Body != nil {
		h.Write(r.Body)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	if err := wav.Write(h, r.Seconds, seedOf(contactID)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func seedOf(id string) int {
	n := 0
	for _, c := range id {
		n = n*31 + int(c)
	}
	if n < 0 {
		n = -n
	}
	return n
}

func newS3(ctx context.Context, f dayFlags) (*s3.Client, error) {
	return awsx.S3(ctx, awsx.Endpoint{Region: f.region, URL: f.s3Endpoint, AccessKey: f.s3AccessKey, SecretKey: f.s3SecretKey})
}

func ensureBucket(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// kmsMetadata marks an object as encrypted with a KMS key, the way the S3
// role front (s3role.KMSKeyMeta) reads it; MinIO here runs no KMS.
func kmsMetadata(key string) map[string]string {
	if key == "" {
		return nil
	}
	return map[string]string{"kms-key-id": key}
}

// upload streams a generated recording into S3 as Connect would write it.
func upload(ctx context.Context, c *s3.Client, bucket string, r *plannedRecording, contactID, kmsKey string) error {
	body, contentType := r.Body, r.ContentType
	if body == nil {
		var buf bytes.Buffer
		if err := wav.Write(&buf, r.Seconds, seedOf(contactID)); err != nil {
			return err
		}
		body, contentType = buf.Bytes(), "audio/wav"
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(r.Key), Body: bytes.NewReader(body),
		ContentType: aws.String(contentType), ContentLength: aws.Int64(int64(len(body))),
		Metadata: kmsMetadata(kmsKey),
	})
	if err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", bucket, r.Key, err)
	}
	return nil
}
