package activities

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

func TestRebuildCTR(t *testing.T) {
	tn := tenant.Tenant{ID: "acme", InstanceARN: "arn:aws:connect:eu-west-2:111122223333:instance/i-1"}
	start := time.Date(2026, 11, 24, 9, 0, 0, 0, time.FixedZone("BST", 3600))
	described := &types.Contact{
		Id: aws.String("c-1"), Channel: types.ChannelVoice, InitiationMethod: types.ContactInitiationMethodTransfer,
		InitiationTimestamp: aws.Time(start), DisconnectTimestamp: aws.Time(start.Add(5 * time.Minute)),
		LastUpdateTimestamp: aws.Time(start.Add(6 * time.Minute)), InitialContactId: aws.String("c-0"), PreviousContactId: aws.String("c-0"),
		AgentInfo: &types.AgentInfo{Id: aws.String("u-7")}, QueueInfo: &types.QueueInfo{Id: aws.String("q-1")},
		Attributes: map[string]string{"topic": "billing"},
		Recordings: []types.RecordingInfo{{Location: aws.String("rec/connect/acme/CallRecordings/2026/11/24/c-1_x.wav"), Status: types.RecordingStatusAvailable,
			StorageType: types.StorageTypeS3, MediaStreamType: types.MediaStreamTypeAudio, ParticipantType: types.ParticipantTypeAll}},
	}
	raw, err := json.Marshal(rebuildCTR(tn, described))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("passes the one check every CTR meets, as the tenant's instance", func(t *testing.T) {
		if _, err := ctr.Parse(raw); err != nil {
			t.Fatalf("the rebuilt CTR is refused: %v\n%s", err, raw)
		}
		id, err := ctr.Identify(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := ctr.CheckInstance(id, tn.InstanceARNs()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("carries what DescribeContact says, in UTC, with the agent and queue as ARNs of the instance", func(t *testing.T) {
		c, _ := ctr.Parse(raw)
		if c.ContactID != "c-1" || c.AWSAccountID != "111122223333" || c.Channel != "VOICE" || c.InitiationMethod != "TRANSFER" ||
			c.PreviousContactID != "c-0" || c.Attributes["topic"] != "billing" {
			t.Errorf("ctr %+v", c)
		}
		if !c.LastUpdateTimestamp.Equal(start.Add(6*time.Minute)) || c.LastUpdateTimestamp.Location() != time.UTC {
			t.Errorf("last update %v", c.LastUpdateTimestamp)
		}
		if c.Agent == nil || c.Agent.ARN != tn.InstanceARN+"/agent/u-7" || c.Queue == nil || c.Queue.ARN != tn.InstanceARN+"/queue/q-1" {
			t.Errorf("agent %+v, queue %+v", c.Agent, c.Queue)
		}
		if len(c.Recordings) != 1 || c.Recordings[0].Status != "AVAILABLE" || c.Recordings[0].Location != *described.Recordings[0].Location {
			t.Errorf("recordings %+v", c.Recordings)
		}
	})

	t.Run("keeps the endpoints DescribeContact gives, as a streamed CTR has them", func(t *testing.T) {
		described.CustomerEndpoint = &types.EndpointInfo{Address: aws.String("+447700900123"), Type: types.EndpointTypeTelephoneNumber}
		c := rebuildCTR(tn, described)
		if c.CustomerEndpoint == nil || c.CustomerEndpoint.Address != "+447700900123" || c.SystemEndpoint != nil {
			t.Errorf("customer endpoint %+v, system %+v", c.CustomerEndpoint, c.SystemEndpoint)
		}
	})
}
