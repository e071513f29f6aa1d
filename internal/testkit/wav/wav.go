// Package wav writes the recordings Amazon Connect produces: stereo 8 kHz
// 16-bit PCM WAV, customer on the left channel and agent on the right.
package wav

import (
	"encoding/binary"
	"io"
	"math"
)

// Rate is Connect's recording sample rate.
const Rate = 8000

// Size is the byte size of a recording of n samples per channel.
func Size(seconds float64) int64 {
	return 44 + int64(seconds*Rate)*4
}

// Write writes a recording of the given length: two tones at pitches that
// depend on seed, so that recordings differ.
func Write(w io.Writer, seconds float64, seed int) error {
	n := int(seconds * Rate)
	data := uint32(n * 4)
	hdr := make([]byte, 0, 44)
	hdr = append(hdr, "RIFF"...)
	hdr = binary.LittleEndian.AppendUint32(hdr, 36+data)
	hdr = append(hdr, "WAVEfmt "...)
	hdr = binary.LittleEndian.AppendUint32(hdr, 16)
	hdr = binary.LittleEndian.AppendUint16(hdr, 1) // PCM
	hdr = binary.LittleEndian.AppendUint16(hdr, 2) // stereo
	hdr = binary.LittleEndian.AppendUint32(hdr, Rate)
	hdr = binary.LittleEndian.AppendUint32(hdr, Rate*4)
	hdr = binary.LittleEndian.AppendUint16(hdr, 4)
	hdr = binary.LittleEndian.AppendUint16(hdr, 16)
	hdr = append(hdr, "data"...)
	hdr = binary.LittleEndian.AppendUint32(hdr, data)
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	customer := 300 + float64(seed%7)*40
	agent := 500 + float64(seed%5)*50
	buf := make([]byte, 0, 4*Rate)
	for i := range n {
		t := float64(i) / Rate
		buf = binary.LittleEndian.AppendUint16(buf, uint16(int16(6000*math.Sin(2*math.Pi*customer*t))))
		buf = binary.LittleEndian.AppendUint16(buf, uint16(int16(6000*math.Sin(2*math.Pi*agent*t))))
		if len(buf) == cap(buf) || i == n-1 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}
