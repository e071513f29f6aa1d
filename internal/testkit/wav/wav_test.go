package wav_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/connectingest/connect-ingest/internal/testkit/wav"
)

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	if err := wav.Write(&buf, 1.5, 3); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	t.Run("is a stereo 8 kHz 16-bit PCM WAV of the stated size", func(t *testing.T) {
		if int64(len(b)) != wav.Size(1.5) || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
			t.Fatalf("header %q, %d bytes", b[:44], len(b))
		}
		channels, rate, bits := binary.LittleEndian.Uint16(b[22:]), binary.LittleEndian.Uint32(b[24:]), binary.LittleEndian.Uint16(b[34:])
		if channels != 2 || rate != 8000 || bits != 16 {
			t.Fatalf("channels %d rate %d bits %d", channels, rate, bits)
		}
		if binary.LittleEndian.Uint32(b[40:]) != uint32(len(b)-44) {
			t.Fatal("data chunk size is wrong")
		}
	})
	t.Run("the two channels carry different signals", func(t *testing.T) {
		var diff int
		for i := 44; i+4 <= len(b); i += 4 {
			if binary.LittleEndian.Uint16(b[i:]) != binary.LittleEndian.Uint16(b[i+2:]) {
				diff++
			}
		}
		if diff < (len(b)-44)/8 {
			t.Fatalf("only %d frames differ between channels", diff)
		}
	})
}
