package audio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/connectingest/connect-ingest/internal/audio"
	"github.com/connectingest/connect-ingest/internal/testkit/wav"
)

// header builds a WAV header with the given fmt fields and data size, and
// any extra chunks between fmt and data.
func header(tag, channels uint16, rate uint32, bits uint16, data uint32, extra ...[]byte) []byte {
	align := channels * ((bits + 7) / 8)
	var b []byte
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, 36+data)
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, tag)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(align))
	b = binary.LittleEndian.AppendUint16(b, align)
	b = binary.LittleEndian.AppendUint16(b, bits)
	for _, e := range extra {
		b = append(b, e...)
	}
	b = append(b, "data"...)
	return binary.LittleEndian.AppendUint32(b, data)
}

func chunk(id string, body []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func TestParseWAV(t *testing.T) {
	t.Run("a Connect recording is stereo 8 kHz 16-bit PCM, its length from the data chunk", func(t *testing.T) {
		var buf bytes.Buffer
		if err := wav.Write(&buf, 2.5, 1); err != nil {
			t.Fatal(err)
		}
		f, err := audio.ParseWAV(buf.Bytes(), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		want := audio.Format{Codec: "pcm_s16le", SampleRateHz: 8000, Channels: 2, BitsPerSample: 16, DurationMillis: 2500,
			DataOffset: 44, DataBytes: 80000, BlockAlign: 4}
		if f.Codec != want.Codec || f.SampleRateHz != want.SampleRateHz || f.Channels != want.Channels ||
			f.BitsPerSample != want.BitsPerSample || f.DurationMillis != want.DurationMillis ||
			f.DataOffset != want.DataOffset || f.DataBytes != want.DataBytes || f.BlockAlign != want.BlockAlign {
			t.Errorf("format = %+v, want %+v", f, want)
		}
	})

	t.Run("chunks before the data are skipped, odd sizes padded", func(t *testing.T) {
		h := header(1, 1, 16000, 16, 32000, chunk("LIST", []byte("INFOxyz")), chunk("fact", []byte{1, 2, 3, 4}))
		f, err := audio.ParseWAV(h, int64(len(h))+32000)
		if err != nil {
			t.Fatal(err)
		}
		if f.DurationMillis != 1000 || f.Channels != 1 || f.DataOffset != int64(len(h)) {
			t.Errorf("format = %+v", f)
		}
	})

	t.Run("the codec is named from the format tag", func(t *testing.T) {
		for _, c := range []struct {
			tag  uint16
			bits uint16
			want string
		}{{1, 8, "pcm_u8"}, {1, 24, "pcm_s24le"}, {3, 32, "pcm_f32le"}, {6, 8, "alaw"}, {7, 8, "mulaw"}, {0x55, 16, "unknown(0x0055)"}} {
			h := header(c.tag, 1, 8000, c.bits, 8000)
			f, err := audio.ParseWAV(h, int64(len(h))+8000)
			if err != nil || f.Codec != c.want {
				t.Errorf("tag %#x, %d bits: codec %q, %v; want %q", c.tag, c.bits, f.Codec, err, c.want)
			}
		}
	})

	t.Run("a file shorter than its header says is measured by what it holds", func(t *testing.T) {
		h := header(1, 2, 8000, 16, 1<<30)
		f, err := audio.ParseWAV(h, int64(len(h))+16000)
		if err != nil || f.DurationMillis != 500 {
			t.Errorf("format %+v, %v; want 500 ms", f, err)
		}
		f, err = audio.ParseWAV(header(1, 2, 8000, 16, 0xFFFFFFFF), 44+32000)
		if err != nil || f.DurationMillis != 1000 {
			t.Errorf("streamed header: format %+v, %v; want 1000 ms", f, err)
		}
	})

	t.Run("a header with no samples holds no audio", func(t *testing.T) {
		for name, c := range map[string]struct {
			head []byte
			size int64
		}{
			"44-byte header":         {header(1, 2, 8000, 16, 0), 44},
			"header promising audio": {header(1, 2, 8000, 16, 64000), 44},
			"less than one frame":    {append(header(1, 2, 8000, 16, 3), 1, 2, 3), 47},
			"file ends before data":  {header(1, 2, 8000, 16, 0)[:36], 36},
		} {
			if _, err := audio.ParseWAV(c.head, c.size); !errors.Is(err, audio.ErrNoAudio) {
				t.Errorf("%s: %v, want ErrNoAudio", name, err)
			}
		}
	})

	t.Run("what is not a sound WAV says so", func(t *testing.T) {
		bad := header(1, 2, 8000, 16, 100)
		zeroRate := bytes.Clone(bad)
		binary.LittleEndian.PutUint32(zeroRate[24:], 0)
		zeroChannels := bytes.Clone(bad)
		binary.LittleEndian.PutUint16(zeroChannels[22:], 0)
		noFmt := append([]byte("RIFF\x00\x00\x00\x00WAVE"), chunk("data", make([]byte, 8))...)
		for name, head := range map[string][]byte{
			"empty":             {},
			"an MP3":            []byte("ID3\x04\x00\x00\x00\x00\x00\x00" + string(make([]byte, 100))),
			"RIFF but not WAVE": []byte("RIFF\x00\x00\x00\x00AVI LIST"),
			"zero sample rate":  zeroRate,
			"zero channels":     zeroChannels,
			"data before fmt":   noFmt,
		} {
			if _, err := audio.ParseWAV(head, int64(len(head))+100); !errors.Is(err, audio.ErrNotWAV) {
				t.Errorf("%s: %v, want ErrNotWAV", name, err)
			}
		}
	})

	t.Run("a header whose chunks outrun the window is refused, not read further", func(t *testing.T) {
		h := header(1, 2, 8000, 16, 100, chunk("LIST", make([]byte, audio.HeaderWindow)))
		if _, err := audio.ParseWAV(h[:audio.HeaderWindow], int64(len(h))+100); !errors.Is(err, audio.ErrNotWAV) {
			t.Errorf("%v, want ErrNotWAV", err)
		}
	})
}

func TestClaimsWAV(t *testing.T) {
	for _, c := range []struct {
		key, ct string
		want    bool
	}{
		{"connect/acme/CallRecordings/2026/11/24/c_20261124T09:24_UTC.wav", "", true},
		{"x/Y.WAV", "binary/octet-stream", true},
		{"x/y", "audio/x-wav", true},
		{"x/y", "Audio/WAV; codec=1", true},
		{"connect/acme/ChatTranscripts/2026/11/24/c_20261124T09:24_UTC.json", "application/json", false},
		{"x/y.mp4", "video/mp4", false},
	} {
		if got := audio.ClaimsWAV(c.key, c.ct); got != c.want {
			t.Errorf("ClaimsWAV(%q, %q) = %v", c.key, c.ct, got)
		}
	}
}

func TestMeter(t *testing.T) {
	t.Run("each channel's peak is measured however the stream is cut", func(t *testing.T) {
		var buf bytes.Buffer
		if err := wav.Write(&buf, 1, 3); err != nil {
			t.Fatal(err)
		}
		file := buf.Bytes()
		f, err := audio.ParseWAV(file, int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{1, 3, 7, 4096, len(file)} {
			m := audio.NewMeter(f)
			for b := file; len(b) > 0; {
				n := min(cut, len(b))
				if _, err := m.Write(b[:n]); err != nil {
					t.Fatal(err)
				}
				b = b[n:]
			}
			peaks := m.Format().Peaks
			// testkit/wav writes two tones at amplitude 6000.
			if len(peaks) != 2 || peaks[0] < 5900 || peaks[0] > 6000 || peaks[1] < 5900 || peaks[1] > 6000 {
				t.Errorf("cut %d: peaks %v, want two near 6000", cut, peaks)
			}
		}
	})

	t.Run("a one-sided recording shows its silent channel", func(t *testing.T) {
		samples := make([]byte, 0, 4*8000)
		for i := range 8000 {
			samples = binary.LittleEndian.AppendUint16(samples, uint16(int16(i%7-3))) // line noise, left
			samples = binary.LittleEndian.AppendUint16(samples, uint16(int16(-20000+i%100)))
		}
		file := append(header(1, 2, 8000, 16, uint32(len(samples))), samples...)
		f, err := audio.ParseWAV(file, int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		m := audio.NewMeter(f)
		if _, err := io.Copy(m, bytes.NewReader(file)); err != nil {
			t.Fatal(err)
		}
		ch := audio.Channels(m.Format())
		if len(ch) != 2 || ch[0].Role != audio.RoleIncoming || ch[0].Position != "left" || ch[1].Role != audio.RoleAgent ||
			ch[0].Silent == nil || !*ch[0].Silent || ch[1].Silent == nil || *ch[1].Silent {
			t.Errorf("channels %+v: want a silent left (incoming) and a loud right (agent)", ch)
		}
	})

	t.Run("bytes after the data chunk are not samples", func(t *testing.T) {
		samples := make([]byte, 400) // silence
		file := append(header(1, 2, 8000, 16, 400), samples...)
		file = append(file, chunk("LIST", bytes.Repeat([]byte{0xff, 0x7f}, 50))...)
		f, err := audio.ParseWAV(file, int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		m := audio.NewMeter(f)
		_, _ = m.Write(file)
		if p := m.Format().Peaks; p[0] != 0 || p[1] != 0 {
			t.Errorf("peaks %v, want silence", p)
		}
	})

	t.Run("a mono recording is one mixed channel; other codecs are not measured", func(t *testing.T) {
		f, err := audio.ParseWAV(header(7, 1, 8000, 8, 8000), 44+8000)
		if err != nil {
			t.Fatal(err)
		}
		m := audio.NewMeter(f)
		_, _ = m.Write(make([]byte, 44+8000))
		ch := audio.Channels(m.Format())
		if len(ch) != 1 || ch[0].Role != audio.RoleMixed || ch[0].Silent != nil {
			t.Errorf("channels %+v, want one unmeasured mixed channel", ch)
		}
	})
}

func BenchmarkMeter(b *testing.B) {
	var buf bytes.Buffer
	_ = wav.Write(&buf, 60, 1)
	file := buf.Bytes()
	f, _ := audio.ParseWAV(file, int64(len(file)))
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		m := audio.NewMeter(f)
		for p := file; len(p) > 0; {
			n := min(32<<10, len(p))
			_, _ = m.Write(p[:n])
			p = p[n:]
		}
	}
}
