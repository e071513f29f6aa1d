package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/testkit/ctrtest"
	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// The realistic mix: shares of each kind of contact and CTR.
const (
	mixChats   = 0.15 // chats: no audio
	mixLate    = 0.33 // voice calls whose recording lands 30-90 s after the CTR
	mixResends = 0.20 // CTRs sent again, or updated with a newer version
)

// The mix is offered at a steady rate for mixRun; conversations finished
// within the window from mixWarmUp to mixRun count. The warm-up outlasts
// the latest recording's last look (15 + 30 + 60 s after its CTR), so the
// window sees the mix in steady state, late recordings included.
const (
	mixRun    = 135 * time.Second
	mixWarmUp = 105 * time.Second
)

// BenchmarkMix measures the conversations per second the system sustains
// under a realistic mix, against the bare six-activity workflow measured
// just before in the same run, and reports their ratio (vs-bare). The mix
// is offered open-loop at three times that run's bare rate (10 to 40 a
// second), so that the figure is what the system keeps up with. Run it
// with -benchtime=1x.
func BenchmarkMix(b *testing.B) {
	x := newBench(b)
	x.upload(b, "mix-on-time.wav", 64<<10)
	base := newBaseline(b)
	var bareRate, got, offered, actions float64
	for i := range b.N {
		start := time.Now()
		base.runBare(b, i)
		bareRate = float64(benchConversations) / time.Since(start).Seconds()
		offered = min(max(3*bareRate, 10), 40)
		before := temporalActions(b)
		var n int
		got, n = x.runMix(b, offered)
		testenv.WaitSettled(b, x.health, 0, x.tenant.ID) // every run's last task counted
		actions = (temporalActions(b) - before) / float64(n)
	}
	b.ReportMetric(got, "conversations/s")
	b.ReportMetric(bareRate, "bare-conversations/s")
	b.ReportMetric(got/bareRate, "vs-bare")
	b.ReportMetric(offered, "offered/s")
	b.ReportMetric(actions, "actions/conversation")
}

// runMix offers the mix at rate conversations a second for mixRun and
// returns the conversations finished per second within the window, and how
// many conversations it offered. It then waits for the run's conversations
// to finish, so that the next run starts on a quiet system.
func (x *bench) runMix(b *testing.B, rate float64) (float64, int) {
	prefix := fmt.Sprintf("mix-%s-", testenv.Suffix())
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var later sync.WaitGroup
	defer later.Wait()
	after := func(d time.Duration, f func()) {
		later.Add(1)
		time.AfterFunc(d, func() { defer later.Done(); f() })
	}

	start := time.Now()
	var atWarmUp, n int
	for sec := 0; time.Since(start) < mixRun; sec++ {
		var records [][]byte
		for range int(rate) {
			id := fmt.Sprintf("%s%d", prefix, n)
			n++
			o := ctrtest.Options{ContactID: id, InstanceARN: x.tenant.InstanceARN, LastUpdate: time.Now().UTC(), AgentUsername: "jdoe"}
			switch r := rng.Float64(); {
			case r < mixChats:
				o.Channel = "CHAT"
			case r < mixChats+mixLate:
				key := "late/" + id + ".wav"
				o.RecordingLocation = x.tenant.Bucket + "/" + key
				after(30*time.Second+time.Duration(rng.Int64N(int64(60*time.Second))), func() { x.upload(b, key, 64<<10) })
			default:
				o.RecordingLocation = x.tenant.Bucket + "/mix-on-time.wav"
			}
			raw := ctrtest.Sample(o)
			records = append(records, raw)
			if rng.Float64() < mixResends {
				again := raw // Firehose sends it again...
				if rng.IntN(2) == 0 {
					o.LastUpdate = o.LastUpdate.Add(time.Minute) // ...or Connect updates it
					again = ctrtest.Sample(o)
				}
				after(5*time.Second+time.Duration(rng.Int64N(int64(15*time.Second))), func() { x.post(b, [][]byte{again}) })
			}
		}
		x.post(b, records)
		if atWarmUp == 0 && time.Since(start) >= mixWarmUp {
			atWarmUp = x.finished(b, prefix)
		}
		time.Sleep(time.Until(start.Add(time.Duration(sec+1) * time.Second)))
	}
	windowEnd := time.Since(start)
	done := x.finished(b, prefix) - atWarmUp
	later.Wait()
	x.waitFinished(b, prefix, n, 3*time.Minute)
	return float64(done) / (windowEnd - mixWarmUp).Seconds(), n
}

// finished counts the conversations whose ID starts with prefix that have
// reached a final state.
func (x *bench) finished(b *testing.B, prefix string) int {
	var n int
	err := x.pool.QueryRow(context.Background(), `SELECT count(*) FROM conversations
		WHERE tenant_id = $1 AND starts_with(contact_id, $2) AND state = ANY($3)`,
		x.tenant.ID, prefix, []string{string(conversation.Enqueued), string(conversation.NoRecording)}).Scan(&n)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func (x *bench) waitFinished(b *testing.B, prefix string, n int, within time.Duration) {
	for deadline := time.Now().Add(within); x.finished(b, prefix) < n; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d mix conversations finished within %s of the run's end", x.finished(b, prefix), n, within)
		}
	}
}
