package audio

import "fmt"

// Who speaks on a channel of an Amazon Connect call recording. Connect
// records the agent on the right channel and everything incoming (the
// customer, and conference or transferred parties) on the left; a mono
// recording mixes them all.
const (
	RoleAgent    = "agent"
	RoleIncoming = "customer_and_incoming"
	RoleMixed    = "mixed"
	RoleUnknown  = "unknown"
)

// SilentPeak is the loudest a channel's 16-bit samples may peak and still be
// called silent: about -60 dBFS, below any line noise a call carries.
const SilentPeak = 32

// Channel is one channel of a recording and who speaks on it.
type Channel struct {
	Index    int    `json:"index"`
	Position string `json:"position"`
	Role     string `json:"role"`
	// Silent is set when the channel was measured and peaks no louder
	// than SilentPeak: a one-sided recording. Nil when not measured.
	Silent *bool `json:"silent,omitempty"`
}

// Channels returns the channels of a Connect call recording of format f,
// with their roles and, where measured, whether each is silent.
func Channels(f Format) []Channel {
	var out []Channel
	switch f.Channels {
	case 1:
		out = []Channel{{Index: 0, Position: "mono", Role: RoleMixed}}
	case 2:
		out = []Channel{{Index: 0, Position: "left", Role: RoleIncoming}, {Index: 1, Position: "right", Role: RoleAgent}}
	default:
		for i := range f.Channels {
			out = append(out, Channel{Index: i, Position: fmt.Sprintf("channel-%d", i), Role: RoleUnknown})
		}
	}
	if len(f.Peaks) == len(out) {
		for i := range out {
			silent := f.Peaks[i] <= SilentPeak
			out[i].Silent = &silent
		}
	}
	return out
}
