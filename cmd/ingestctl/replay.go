package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/ingest"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// replayBatch is how many records go through the ingest path at once.
const replayBatch = 500

// replayOptions are `ingestctl replay`'s flags.
type replayOptions struct {
	bucket, prefix, tenant string
	from, to               string
	endpoint, region       string
}

// replaySummary counts what a replay did.
type replaySummary struct {
	objects, records, published, quarantined, outOfRange int
	// erased are CTRs of erased contacts: refused, never published.
	erased int
	// unattributed are records that name no known tenant's instance, and
	// badLines lines that are not backup records: reported, never dropped
	// silently.
	unattributed, badLines int
}

func (a *app) replayCmd() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay --bucket B --prefix P",
		Short: "Feed the CTRs Firehose backed up to S3 through the gateway's path again (idempotent)",
		Long: "Read the objects Firehose wrote to its S3 backup bucket for records it could not deliver (each line a JSON\n" +
			"error record whose rawData is the base64 CTR) and send each CTR through the same path as the gateway: the\n" +
			"same validation, quarantine and confirmed publish. Running it twice changes nothing downstream: workflows\n" +
			"take each CTR version once, and quarantined records are kept once per object and line.\n" +
			"With --tenant, the bucket is read with the tenant's AWS access and every record is the tenant's; without\n" +
			"it, the default credential chain (or --aws-endpoint-url) reads the bucket and each record goes to the\n" +
			"tenant whose instance ARN it names.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.replay(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.bucket, "bucket", "", "the Firehose stream's S3 backup bucket (required)")
	f.StringVar(&o.prefix, "prefix", "", "key prefix of the failed records, such as http-endpoint-failed/2026/11/24/")
	f.StringVar(&o.tenant, "tenant", "", "the tenant whose stream it is")
	f.StringVar(&o.from, "from", "", "only records that reached Firehose at or after this RFC 3339 time")
	f.StringVar(&o.to, "to", "", "only records that reached Firehose before this RFC 3339 time")
	f.StringVar(&o.endpoint, "aws-endpoint-url", "", "S3 endpoint without --tenant (a local stand-in)")
	f.StringVar(&o.region, "region", "eu-west-2", "S3 region without --tenant")
	_ = cmd.MarkFlagRequired("bucket")
	return cmd
}

func (a *app) replay(ctx context.Context, o replayOptions) error {
	from, to, err := parseRange(o.from, o.to)
	if err != nil {
		return err
	}
	pool, err := a.db(ctx)
	if err != nil {
		return err
	}
	tenants := store.NewTenants(pool)
	var only *tenant.Tenant
	if o.tenant != "" {
		t, err := tenants.Get(ctx, o.tenant)
		if err != nil {
			return err
		}
		only = &t
	}
	client, err := a.backupClient(ctx, o, only)
	if err != nil {
		return err
	}
	byInstance := map[string]tenant.Tenant{}
	all, err := tenants.List(ctx)
	if err != nil {
		return err
	}
	for _, t := range all {
		for _, arn := range t.InstanceARNs() {
			byInstance[arn] = t
		}
	}

	conn := queue.Dial(a.cfg.AMQPURL, queue.Topology{CTRQueue: a.cfg.CTRQueue, AnalysisQueue: a.cfg.AnalysisQueue}, a.log)
	defer conn.Close()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := conn.WaitReady(wctx); err != nil {
		return fmt.Errorf("rabbitmq: %w", err)
	}
	pub := queue.NewPublisher(conn, 1)
	defer pub.Close()
	in := &ingest.Ingester{Publisher: pub, Quarantine: store.NewQuarantine(pool).WithQuota(a.cfg.QuarantineQuota), Queue: a.cfg.CTRQueue,
		Agents: store.NewAgents(pool), Tombstones: store.NewErasures(pool)}

	var keys []string
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(o.bucket), Prefix: aws.String(o.prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", o.bucket, o.prefix, err)
		}
		for _, obj := range page.Contents {
			// An object is written after the records in it arrived.
			if !from.IsZero() && obj.LastModified != nil && obj.LastModified.Before(from) {
				continue
			}
			keys = append(keys, aws.ToString(obj.Key))
		}
	}

	r := &replayer{client: client, in: in, bucket: o.bucket, only: only, byInstance: byInstance, from: from, to: to, report: a.stderr}
	sum := &r.sum
	bar := progressbar.NewOptions(len(keys), progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("objects"),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	for _, key := range keys {
		if err := r.object(ctx, key); err != nil {
			return err
		}
		sum.objects++
		_ = bar.Add(1)
	}
	_ = bar.Finish()
	fmt.Fprintf(a.stdout, "replay of s3://%s/%s: %d objects, %d records: %d published, %d quarantined, %d refused (contact erased), %d outside --from/--to, %d unattributed, %d unreadable lines\n",
		o.bucket, o.prefix, sum.objects, sum.records, sum.published, sum.quarantined, sum.erased, sum.outOfRange, sum.unattributed, sum.badLines)
	if sum.unattributed > 0 || sum.badLines > 0 {
		return fmt.Errorf("%d records could not be replayed (listed above); nothing else was lost", sum.unattributed+sum.badLines)
	}
	return nil
}

// replayer sends backup objects through the ingest path and counts what
// became of their records.
type replayer struct {
	client     *s3.Client
	in         *ingest.Ingester
	bucket     string
	only       *tenant.Tenant
	byInstance map[string]tenant.Tenant
	from, to   time.Time
	report     io.Writer // where records not replayed are named
	sum        replaySummary
}

// object sends one backup object's records through the ingest path, in
// batches per tenant whose request IDs derive from the object, the tenant
// and the batch's number, so that a second replay quarantines nothing
// twice.
func (r *replayer) object(ctx context.Context, key string) error {
	obj, err := r.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get s3://%s/%s: %w", r.bucket, key, err)
	}
	defer obj.Body.Close()
	pending := map[string][]firehose.Record{}
	tenantOf := map[string]tenant.Tenant{}
	batches := map[string]int{}
	flush := func(id string) error {
		recs := pending[id]
		if len(recs) == 0 {
			return nil
		}
		batches[id]++
		requestID := fmt.Sprintf("replay:%s/%s#%s#%d", r.bucket, key, id, batches[id])
		res, err := r.in.Ingest(ctx, ingest.Batch{Tenant: tenantOf[id], RequestID: requestID, Records: recs})
		if err != nil {
			return fmt.Errorf("replay s3://%s/%s: %w", r.bucket, key, err)
		}
		r.sum.published += res.Published
		r.sum.quarantined += res.QuarantinedTotal()
		r.sum.erased += res.Erased
		pending[id] = nil
		return nil
	}
	bad, err := firehose.ReadBackup(obj.Body, func(rec firehose.BackupRecord) error {
		r.sum.records++
		if at := rec.Arrival(); (!r.from.IsZero() && at.Before(r.from)) || (!r.to.IsZero() && !at.Before(r.to)) {
			r.sum.outOfRange++
			return nil
		}
		t, ok := attribute(rec, r.only, r.byInstance)
		if !ok {
			r.sum.unattributed++
			fmt.Fprintf(r.report, "s3://%s/%s line %d: names no known tenant's instance; not replayed\n", r.bucket, key, rec.Line)
			return nil
		}
		tenantOf[t.ID] = t
		pending[t.ID] = append(pending[t.ID], rec.Record())
		if len(pending[t.ID]) == replayBatch {
			return flush(t.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range bad {
		r.sum.badLines++
		fmt.Fprintf(r.report, "s3://%s/%s line %d: not a Firehose backup record (%v); not replayed\n", r.bucket, key, l.Line, l.Err)
	}
	for id := range pending {
		if err := flush(id); err != nil {
			return err
		}
	}
	return nil
}

// attribute finds a record's tenant: the one given, or the one whose
// instance the CTR names.
func attribute(r firehose.BackupRecord, only *tenant.Tenant, byInstance map[string]tenant.Tenant) (tenant.Tenant, bool) {
	if only != nil {
		return *only, true
	}
	data, err := firehose.DecodeData(r.Record())
	if err != nil {
		return tenant.Tenant{}, false
	}
	id, err := ctr.Identify(data)
	if err != nil {
		return tenant.Tenant{}, false
	}
	t, ok := byInstance[id.InstanceARN]
	return t, ok
}

// backupClient reads the backup bucket: with the tenant's AWS access, or
// the default credential chain.
func (a *app) backupClient(ctx context.Context, o replayOptions, t *tenant.Tenant) (*s3.Client, error) {
	key, secret := a.cfg.Worker.StandInAccessKey, a.cfg.Worker.StandInSecretKey
	if t != nil {
		return (&awsx.Clients{StandInAccessKey: key, StandInSecretKey: secret}).S3(ctx, *t)
	}
	return awsx.S3(ctx, awsx.Endpoint{Region: o.region, URL: o.endpoint, AccessKey: key, SecretKey: secret})
}

func parseRange(from, to string) (time.Time, time.Time, error) {
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = time.Parse(time.RFC3339, from); err != nil {
			return f, t, fmt.Errorf("--from: %w", err)
		}
	}
	if to != "" {
		if t, err = time.Parse(time.RFC3339, to); err != nil {
			return f, t, fmt.Errorf("--to: %w", err)
		}
	}
	if !f.IsZero() && !t.IsZero() && !f.Before(t) {
		return f, t, errors.New("--from must be before --to")
	}
	return f, t, nil
}
