package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
)

// The kinds of contact a day is made of.
const (
	kindInbound     = "inbound"
	kindOutbound    = "outbound"
	kindTransfer    = "transfer"
	kindAbandoned   = "abandoned"
	kindChat        = "chat"
	kindNoRecording = "no_recording"
	kindDeleted     = "deleted"
	kindLate        = "late"
	kindResent      = "resent"
	// kindChatUntranscribed is a chat whose transcript Connect did not
	// store; kindEmpty a call whose recording holds no audio.
	kindChatUntranscribed = "chat_untranscribed"
	kindEmpty             = "empty"
)

// defaultMix is the share of each kind in a day; transfer chains count once
// per chain but produce two or three legs.
const defaultMix = "inbound=0.38,outbound=0.10,transfer=0.10,abandoned=0.08,chat=0.06,chat_untranscribed=0.02,no_recording=0.06," +
	"deleted=0.04,late=0.08,resent=0.06,empty=0.02"

var kinds = []string{kindInbound, kindOutbound, kindTransfer, kindAbandoned, kindChat, kindNoRecording, kindDeleted, kindLate,
	kindResent, kindChatUntranscribed, kindEmpty}

// parseMix reads "kind=share,..." into shares that sum to 1.
func parseMix(s string) (map[string]float64, error) {
	mix := map[string]float64{}
	total := 0.0
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !slices.Contains(kinds, k) {
			return nil, fmt.Errorf("mix %q: want kind=share with kind one of %s", part, strings.Join(kinds, ", "))
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return nil, fmt.Errorf("mix %q: share must be a number ≥ 0", part)
		}
		mix[k] = f
		total += f
	}
	if total <= 0 {
		return nil, fmt.Errorf("mix %q: shares sum to zero", s)
	}
	for k := range mix {
		mix[k] /= total
	}
	return mix, nil
}

// dayOptions shape a generated day.
type dayOptions struct {
	Count        int
	Seed         uint64
	Mix          map[string]float64
	InstanceARN  string
	Bucket       string
	Alias        string
	Day          time.Time
	AudioSeconds float64
	// ReplicaARN, when set, is a Global Resiliency replica of the
	// instance (failover in progress): ReplicaShare of the contacts come
	// from it, with its ARN in their CTRs.
	ReplicaARN   string
	ReplicaShare float64
}

// contact is one planned contact: its CTR versions in the order they are
// sent, and its recording when it has one.
type contact struct {
	ID        string
	Kind      string
	Versions  [][]byte
	Recording *plannedRecording
}

type plannedRecording struct {
	Key     string
	Seconds float64
	// Late recordings land in S3 after their CTR is sent.
	Late bool
	// Body, when set, is what is written instead of a generated WAV
	// recording (a chat transcript, an empty recording), of ContentType.
	Body        []byte
	ContentType string
}

// Location is the recording's CTR Location, bucket/key.
func (r *plannedRecording) Location(bucket string) string { return bucket + "/" + r.Key }

// agents take the day's calls: the first users of the instance that
// `connectsim serve` generates, so that the agent sync links them.
var agents = func() []connectapi.User {
	out := make([]connectapi.User, 6)
	for i := range out {
		out[i] = connectapi.GeneratedUser(i)
	}
	return out
}()

// plan generates a day of contacts, the same for the same options.
func plan(o dayOptions) []contact {
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	// The replica draws from a generator of its own, so that naming one
	// leaves the day's contacts as they were.
	failover := rand.New(rand.NewPCG(o.Seed^0x5851f42d4c957f2d, o.Seed))
	var out []contact
	n := 0
	nextID := func() string {
		n++
		return ctrtest.ContactID(int(o.Seed%0xffffffff), n)
	}

	for len(out) < o.Count {
		kind := pick(rng, o.Mix)
		start := o.Day.Add(time.Duration(8*3600+rng.IntN(10*3600)) * time.Second)
		dur := time.Duration(60+rng.IntN(600)) * time.Second
		agent := agents[rng.IntN(len(agents))]
		base := ctrtest.Options{InstanceARN: o.InstanceARN, Start: start, LastUpdate: start.Add(dur + 30*time.Second),
			AgentUsername: agent.Username, AgentUserID: agent.ID}
		if o.ReplicaARN != "" && failover.Float64() < o.ReplicaShare {
			base.InstanceARN = o.ReplicaARN
		}
		switch kind {
		case kindTransfer:
			legs := 2 + rng.IntN(2)
			ids := make([]string, legs)
			for i := range ids {
				ids[i] = nextID()
			}
			for i, id := range ids {
				opt := base
				leg := agents[rng.IntN(len(agents))]
				opt.ContactID, opt.AgentUsername, opt.AgentUserID = id, leg.Username, leg.ID
				opt.Start = start.Add(time.Duration(i) * dur / time.Duration(legs))
				opt.LastUpdate = opt.Start.Add(dur/time.Duration(legs) + 30*time.Second)
				opt.InitialContactID = ids[0]
				if i > 0 {
					opt.PreviousContactID, opt.InitiationMethod = ids[i-1], "TRANSFER"
				}
				if i < legs-1 {
					opt.NextContactID = ids[i+1]
				}
				out = append(out, voice(o, kindTransfer, opt, false))
			}
		default:
			base.ContactID = nextID()
			out = append(out, build(o, kind, base))
		}
	}
	return out[:o.Count]
}

func build(o dayOptions, kind string, opt ctrtest.Options) contact {
	switch kind {
	case kindOutbound:
		opt.InitiationMethod = "OUTBOUND"
		return voice(o, kind, opt, false)
	case kindLate:
		return voice(o, kind, opt, true)
	case kindResent:
		c := voice(o, kind, opt, false)
		newer := opt
		newer.LastUpdate = opt.LastUpdate.Add(5 * time.Minute)
		newer.Attributes = map[string]string{"wrapup_code": "resolved", "survey_score": "5"}
		newer.RecordingLocation = c.Recording.Location(o.Bucket)
		// Connect delivers at least once: the first version again, then
		// the update, then the update once more.
		c.Versions = append(c.Versions, c.Versions[0], ctrtest.Sample(newer), ctrtest.Sample(newer))
		return c
	case kindAbandoned:
		opt.AgentUsername, opt.AgentUserID, opt.DisconnectReason = "", "", "CUSTOMER_DISCONNECT"
		return contact{ID: opt.ContactID, Kind: kind, Versions: [][]byte{ctrtest.Sample(opt)}}
	case kindChat:
		// Connect stores the transcript in the instance's bucket as the
		// chat ends, and the chat's CTR lists it.
		opt.Channel, opt.InitiationMethod = "CHAT", "API"
		rec := &plannedRecording{Key: ctrtest.TranscriptKey(o.Alias, opt.ContactID, opt.Start), ContentType: "application/json",
			Body: ctrtest.Transcript(o.InstanceARN, opt.ContactID, opt.AgentUsername, opt.Start)}
		opt.RecordingLocation = rec.Location(o.Bucket)
		return contact{ID: opt.ContactID, Kind: kind, Versions: [][]byte{ctrtest.Sample(opt)}, Recording: rec}
	case kindChatUntranscribed:
		opt.Channel, opt.InitiationMethod = "CHAT", "API"
		return contact{ID: opt.ContactID, Kind: kind, Versions: [][]byte{ctrtest.Sample(opt)}}
	case kindEmpty:
		// A recording of nothing: the 44-byte header alone.
		c := voice(o, kind, opt, false)
		c.Recording.Seconds = 0
		return c
	case kindNoRecording:
		return contact{ID: opt.ContactID, Kind: kind, Versions: [][]byte{ctrtest.Sample(opt)}}
	case kindDeleted:
		rec := recordingFor(o, opt)
		opt.RecordingLocation, opt.RecordingStatus, opt.DeletionReason = rec.Location(o.Bucket), "DELETED", "customer request"
		return contact{ID: opt.ContactID, Kind: kind, Versions: [][]byte{ctrtest.Sample(opt)}}
	default:
		return voice(o, kindInbound, opt, false)
	}
}

// voice is a recorded voice contact.
func voice(o dayOptions, kind string, opt ctrtest.Options, late bool) contact {
	rec := recordingFor(o, opt)
	rec.Late = late
	opt.RecordingLocation = rec.Location(o.Bucket)
	return contact{ID: opt.ContactID, Kind: kind, Versions: [][]byte{ctrtest.Sample(opt)}, Recording: rec}
}

// connectView is the contact as Amazon Connect itself keeps it, which
// SearchContacts and DescribeContact answer from whether or not its CTR
// was delivered: read from its newest CTR, so the two always agree.
func (c contact) connectView() (connectapi.Contact, error) {
	r, err := ctr.Parse(c.Versions[len(c.Versions)-1])
	if err != nil {
		return connectapi.Contact{}, fmt.Errorf("contact %s: %w", c.ID, err)
	}
	v := connectapi.Contact{
		ID: r.ContactID, Channel: r.Channel, InitiationMethod: r.InitiationMethod, LastUpdateTimestamp: r.LastUpdateTimestamp,
		InitialContactID: r.InitialContactID, PreviousContactID: r.PreviousContactID, DisconnectReason: r.DisconnectReason,
		Attributes: r.Attributes,
	}
	if r.InitiationTimestamp != nil {
		v.InitiationTimestamp = *r.InitiationTimestamp
	}
	if r.DisconnectTimestamp != nil {
		v.DisconnectTimestamp = *r.DisconnectTimestamp
	}
	if r.Agent != nil {
		v.AgentID = r.Agent.ARN[strings.LastIndex(r.Agent.ARN, "/")+1:]
	}
	if r.Queue != nil {
		v.QueueID = r.Queue.ARN[strings.LastIndex(r.Queue.ARN, "/")+1:]
	}
	for _, rec := range r.Recordings {
		v.Recordings = append(v.Recordings, connectapi.Recording{Location: rec.Location, Status: rec.Status,
			MediaStreamType: rec.MediaStreamType, DeletionReason: rec.DeletionReason})
	}
	return v, nil
}

// recordingFor names the recording as Connect does:
// connect/<alias>/CallRecordings/YYYY/MM/DD/<ContactId>_<YYYYMMDD>T<HH:MM>_UTC.wav
func recordingFor(o dayOptions, opt ctrtest.Options) *plannedRecording {
	s := opt.Start.UTC()
	key := fmt.Sprintf("connect/%s/CallRecordings/%s/%s_%sT%s_UTC.wav", o.Alias, s.Format("2006/01/02"), opt.ContactID, s.Format("20060102"), s.Format("15:04"))
	return &plannedRecording{Key: key, Seconds: o.AudioSeconds}
}

func pick(rng *rand.Rand, mix map[string]float64) string {
	x := rng.Float64()
	for _, k := range kinds {
		if x < mix[k] {
			return k
		}
		x -= mix[k]
	}
	return kindInbound
}
