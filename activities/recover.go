package activities

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/ingest"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// recoverContact rebuilds a missing contact's CTR from DescribeContact and
// hands it to the gateway's path (validation, quarantine, confirmed publish),
// marked reconciled. It returns why the contact cannot be recovered, or an
// error retrying may fix.
func (a *Activities) recoverContact(ctx context.Context, t tenant.Tenant, instanceID string, client *connect.Client, recordings *recordingFinder, id string) (string, error) {
	if err := a.AWS.Limiter(t.ID).Wait(ctx); err != nil {
		return "", err
	}
	out, err := client.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(instanceID), ContactId: aws.String(id)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "Amazon Connect no longer has the contact", nil
	}
	if isClientError(err) {
		return fmt.Sprintf("Amazon Connect refused DescribeContact: %v", err), nil
	}
	if err != nil {
		return "", fmt.Errorf("describe contact %s of %s: %w", id, t.ID, err)
	}
	c := out.Contact
	if c == nil || c.DisconnectTimestamp == nil || c.LastUpdateTimestamp == nil {
		return "the contact has not ended", nil
	}
	rec := rebuildCTR(t, c)
	if rec.Agent != nil {
		if agent, err := a.Agents.Get(ctx, t.ID, aws.ToString(c.AgentInfo.Id)); err == nil {
			rec.Agent.Username = agent.Username
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	if len(rec.Recordings) == 0 && rec.Channel == "VOICE" {
		loc, reason, err := recordings.find(ctx, id, *c.InitiationTimestamp, *c.DisconnectTimestamp)
		if err != nil || reason != "" {
			return reason, err
		}
		if loc != "" {
			rec.Recordings = []ctr.Recording{{Location: loc, Status: "AVAILABLE", StorageType: "S3", MediaStreamType: "AUDIO", ParticipantType: "ALL"}}
		}
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Sprintf("rebuilt CTR not encodable: %v", err), nil
	}
	res, err := a.Ingester.Ingest(ctx, ingest.Batch{
		Tenant: t, RequestID: "reconcile:" + id, Origin: ctr.OriginReconciled,
		Records: []firehose.Record{{Data: base64.StdEncoding.EncodeToString(raw)}},
	})
	if err != nil {
		return "", fmt.Errorf("ingest rebuilt CTR of %s/%s: %w", t.ID, id, err)
	}
	for reason := range res.Quarantined {
		return "the rebuilt CTR was quarantined: " + string(reason), nil
	}
	return "", nil
}

// rebuildCTR is the contact record Connect would have streamed, from what
// DescribeContact says of the contact.
func rebuildCTR(t tenant.Tenant, c *types.Contact) ctr.CTR {
	rec := ctr.CTR{
		ContactID: aws.ToString(c.Id), InstanceARN: t.InstanceARN, Channel: string(c.Channel),
		InitiationMethod: string(c.InitiationMethod), InitiationTimestamp: utc(c.InitiationTimestamp),
		DisconnectTimestamp: utc(c.DisconnectTimestamp), LastUpdateTimestamp: *utc(c.LastUpdateTimestamp),
		DisconnectReason: aws.ToString(c.DisconnectReason), InitialContactID: aws.ToString(c.InitialContactId),
		PreviousContactID: aws.ToString(c.PreviousContactId), Attributes: c.Attributes,
	}
	// arn:aws:connect:REGION:ACCOUNT:instance/ID
	if parts := strings.SplitN(t.InstanceARN, ":", 6); len(parts) == 6 {
		rec.AWSAccountID = parts[4]
	}
	if rec.Attributes == nil {
		rec.Attributes = map[string]string{}
	}
	if c.AgentInfo != nil && aws.ToString(c.AgentInfo.Id) != "" {
		rec.Agent = &ctr.Agent{ARN: t.InstanceARN + "/agent/" + aws.ToString(c.AgentInfo.Id)}
	}
	rec.CustomerEndpoint, rec.SystemEndpoint = endpoint(c.CustomerEndpoint), endpoint(c.SystemEndpoint)
	if c.QueueInfo != nil && aws.ToString(c.QueueInfo.Id) != "" {
		rec.Queue = &ctr.Queue{ARN: t.InstanceARN + "/queue/" + aws.ToString(c.QueueInfo.Id)}
	}
	for _, r := range c.Recordings {
		if aws.ToString(r.Location) == "" {
			continue
		}
		rec.Recordings = append(rec.Recordings, ctr.Recording{
			Location: aws.ToString(r.Location), Status: string(r.Status), StorageType: string(r.StorageType),
			MediaStreamType: string(r.MediaStreamType), ParticipantType: string(r.ParticipantType), DeletionReason: aws.ToString(r.DeletionReason),
		})
	}
	return rec
}

func endpoint(e *types.EndpointInfo) *ctr.Endpoint {
	if e == nil || aws.ToString(e.Address) == "" {
		return nil
	}
	return &ctr.Endpoint{Address: aws.ToString(e.Address), Type: string(e.Type)}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// maxAliases bounds the instance aliases looked at under connect/ in a
// recording bucket.
const maxAliases = 20

// recordingFinder looks for calls' recordings where DescribeContact gives
// none, by Connect's documented key layout in the tenant's recording
// buckets: connect/<alias>/CallRecordings/YYYY/MM/DD/<ContactId>_... It
// lists each bucket's aliases once, for all the contacts of a page.
type recordingFinder struct {
	a       *Activities
	tenant  tenant.Tenant
	aliases map[string][]string
}

func (a *Activities) newRecordingFinder(t tenant.Tenant) *recordingFinder {
	return &recordingFinder{a: a, tenant: t, aliases: map[string][]string{}}
}

// find returns the call's recording as bucket/key, looked for on the day
// it started or ended, or "" when there is none; a bucket it cannot list
// makes the contact unrecoverable with the reason.
func (f *recordingFinder) find(ctx context.Context, id string, started, ended time.Time) (string, string, error) {
	client, err := f.a.AWS.S3(ctx, f.tenant)
	if err != nil {
		return "", "", err
	}
	days := []string{started.UTC().Format("2006/01/02")}
	if d := ended.UTC().Format("2006/01/02"); d != days[0] {
		days = append(days, d)
	}
	for _, bucket := range f.tenant.RecordingBuckets {
		aliases, ok := f.aliases[bucket]
		if !ok {
			out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("connect/"),
				Delimiter: aws.String("/"), MaxKeys: aws.Int32(maxAliases)})
			if err != nil {
				return "", fmt.Sprintf("could not list recording bucket %s: %v", bucket, err), nil
			}
			for _, p := range out.CommonPrefixes {
				aliases = append(aliases, aws.ToString(p.Prefix))
			}
			f.aliases[bucket] = aliases
		}
		for _, alias := range aliases {
			for _, day := range days {
				prefix := alias + "CallRecordings/" + day + "/" + id + "_"
				objs, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(10)})
				if err != nil {
					return "", fmt.Sprintf("could not list recording bucket %s: %v", bucket, err), nil
				}
				for _, o := range objs.Contents {
					if key := aws.ToString(o.Key); strings.HasSuffix(key, ".wav") {
						return bucket + "/" + key, "", nil
					}
				}
			}
		}
	}
	return "", "", nil
}
