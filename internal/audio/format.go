// Package audio reads what a recording holds from its header, as the copy
// streams it: the codec, sample rate, channels and length of a WAV file, and
// how loud each channel is, so that the analysis platform is told which
// speaker is where instead of guessing, and an empty recording is caught
// before anyone analyses it.
package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// HeaderWindow is how much of the start of a file ParseWAV needs at most:
// the chunks before the audio (fmt, and any LIST or fact chunk) must end
// within it.
const HeaderWindow = 64 << 10

// Why a file that claims to be a WAV recording cannot be analysed.
var (
	// ErrNotWAV: the file is not a RIFF/WAVE file, or its header is broken.
	ErrNotWAV = errors.New("not a WAV file")
	// ErrNoAudio: the header is sound but says the file holds no audio.
	ErrNoAudio = errors.New("holds no audio")
)

// Format is what a WAV header says of its audio.
type Format struct {
	// Codec is the sample encoding: pcm_s16le, pcm_u8, pcm_s24le,
	// pcm_s32le, pcm_f32le, pcm_f64le, alaw, mulaw, or unknown(0xNNNN).
	Codec         string `json:"codec"`
	SampleRateHz  int    `json:"sampleRateHz"`
	Channels      int    `json:"channels"`
	BitsPerSample int    `json:"bitsPerSample"`
	// DurationMillis is the length of the audio the file holds: the data
	// chunk's size, cut to the bytes the file really has.
	DurationMillis int64 `json:"durationMs"`
	// DataOffset and DataBytes place the samples in the file.
	DataOffset int64 `json:"-"`
	DataBytes  int64 `json:"-"`
	// BlockAlign is the size of one frame: a sample of every channel.
	BlockAlign int `json:"-"`
	// Peaks is the largest absolute sample of each channel, for 16-bit
	// PCM once the whole file has been read through a Meter; nil
	// otherwise.
	Peaks []int `json:"peaks,omitempty"`
}

// WAV format tags, from the fmt chunk.
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// ClaimsWAV reports whether an object named key with content type ct says
// it is a WAV file, as every Amazon Connect call recording does.
func ClaimsWAV(key, contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	switch ct {
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return true
	}
	return strings.HasSuffix(strings.ToLower(key), ".wav")
}

// ParseWAV reads the header at the start of a WAV file of size bytes; head
// is its first bytes, HeaderWindow of them or the whole file if shorter. It
// fails with ErrNotWAV for a file that is not a sound WAV, and ErrNoAudio
// for one that holds no sample (a 44-byte header and nothing after, say).
func ParseWAV(head []byte, size int64) (Format, error) {
	if len(head) < 12 || string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return Format{}, fmt.Errorf("%w: no RIFF/WAVE header", ErrNotWAV)
	}
	var f Format
	var sawFmt bool
	off := 12
	for {
		if off+8 > len(head) {
			if int64(off) >= size {
				return Format{}, fmt.Errorf("%w: the file ends before its data chunk", ErrNoAudio)
			}
			return Format{}, fmt.Errorf("%w: no data chunk in the first %d bytes", ErrNotWAV, len(head))
		}
		id, n := string(head[off:off+4]), int64(binary.LittleEndian.Uint32(head[off+4:off+8]))
		body := off + 8
		switch id {
		case "fmt ":
			if n < 16 || body+16 > len(head) {
				return Format{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, n)
			}
			if err := f.readFmt(head[body:min(int64(len(head)), int64(body)+n)]); err != nil {
				return Format{}, err
			}
			sawFmt = true
		case "data":
			if !sawFmt {
				return Format{}, fmt.Errorf("%w: data chunk before fmt chunk", ErrNotWAV)
			}
			f.DataOffset = int64(body)
			// A header written before the length was known says 0 or
			// 0xFFFFFFFF; the file's own size is the truth then, and
			// whenever it holds less than the header says.
			avail := max(size-f.DataOffset, 0)
			if n == 0xFFFFFFFF || n > avail {
				n = avail
			}
			f.DataBytes = n - n%int64(f.BlockAlign)
			if f.DataBytes == 0 {
				return Format{}, fmt.Errorf("%w: its data chunk is empty", ErrNoAudio)
			}
			bytesPerSecond := int64(f.SampleRateHz) * int64(f.BlockAlign)
			f.DurationMillis = f.DataBytes * 1000 / bytesPerSecond
			return f, nil
		}
		next := int64(body) + n + n%2 // chunks are padded to even sizes
		if next > int64(len(head)) {
			if next >= size {
				return Format{}, fmt.Errorf("%w: the file ends inside its %q chunk", ErrNotWAV, id)
			}
			return Format{}, fmt.Errorf("%w: no data chunk in the first %d bytes", ErrNotWAV, len(head))
		}
		off = int(next)
	}
}

// readFmt reads a fmt chunk's body.
func (f *Format) readFmt(b []byte) error {
	tag := binary.LittleEndian.Uint16(b[0:2])
	f.Channels = int(binary.LittleEndian.Uint16(b[2:4]))
	f.SampleRateHz = int(binary.LittleEndian.Uint32(b[4:8]))
	f.BlockAlign = int(binary.LittleEndian.Uint16(b[12:14]))
	f.BitsPerSample = int(binary.LittleEndian.Uint16(b[14:16]))
	if tag == tagExtensible && len(b) >= 26 {
		tag = binary.LittleEndian.Uint16(b[24:26]) // the sub-format GUID's first two bytes
	}
	switch {
	case f.Channels == 0 || f.Channels > 32:
		return fmt.Errorf("%w: %d channels", ErrNotWAV, f.Channels)
	case f.SampleRateHz == 0 || f.SampleRateHz > 768000:
		return fmt.Errorf("%w: sample rate %d Hz", ErrNotWAV, f.SampleRateHz)
	case f.BlockAlign == 0 || f.BitsPerSample == 0 || f.BlockAlign < f.Channels*((f.BitsPerSample+7)/8):
		return fmt.Errorf("%w: %d-byte frames of %d-bit samples on %d channels", ErrNotWAV, f.BlockAlign, f.BitsPerSample, f.Channels)
	}
	f.Codec = codec(tag, f.BitsPerSample)
	return nil
}

func codec(tag uint16, bits int) string {
	switch {
	case tag == tagPCM && bits == 8:
		return "pcm_u8"
	case tag == tagPCM && bits <= 32:
		return fmt.Sprintf("pcm_s%dle", (bits+7)/8*8)
	case tag == tagFloat && bits == 32:
		return "pcm_f32le"
	case tag == tagFloat && bits == 64:
		return "pcm_f64le"
	case tag == tagALaw:
		return "alaw"
	case tag == tagMuLaw:
		return "mulaw"
	}
	return fmt.Sprintf("unknown(0x%04X)", tag)
}
