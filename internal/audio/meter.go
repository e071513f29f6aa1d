package audio

import "encoding/binary"

// Meter measures each channel's peak as a WAV file streams through it: it
// is an io.Writer for the whole file, from its first byte, and skips all
// but the samples of the data chunk its Format places. It measures 16-bit
// PCM, what Amazon Connect records; for any other codec it only counts.
type Meter struct {
	f     Format
	pos   int64 // bytes of the file written so far
	peaks []int
	// carry holds the start of a frame split across writes.
	carry []byte
}

// NewMeter returns a meter for a file whose header ParseWAV read as f.
func NewMeter(f Format) *Meter {
	m := &Meter{f: f}
	if f.Codec == "pcm_s16le" && f.BitsPerSample == 16 {
		m.peaks = make([]int, f.Channels)
		m.carry = make([]byte, 0, f.BlockAlign)
	}
	return m
}

// Write measures the samples in b; it never fails.
func (m *Meter) Write(b []byte) (int, error) {
	n := len(b)
	start, end := m.f.DataOffset, m.f.DataOffset+m.f.DataBytes
	lo, hi := max(start-m.pos, 0), min(end-m.pos, int64(n))
	m.pos += int64(n)
	if m.peaks == nil || lo >= hi {
		return n, nil
	}
	b = b[lo:hi]
	if len(m.carry) > 0 {
		k := min(cap(m.carry)-len(m.carry), len(b))
		m.carry = append(m.carry, b[:k]...)
		b = b[k:]
		if len(m.carry) < cap(m.carry) {
			return n, nil
		}
		m.frames(m.carry)
		m.carry = m.carry[:0]
	}
	whole := len(b) - len(b)%m.f.BlockAlign
	m.frames(b[:whole])
	m.carry = append(m.carry, b[whole:]...)
	return n, nil
}

// frames measures whole frames.
func (m *Meter) frames(b []byte) {
	ch, align := m.f.Channels, m.f.BlockAlign
	if ch == 2 && align == 4 {
		// Connect's stereo, two frames a word: the common case, and the
		// hot loop.
		var l, r uint16 = uint16(m.peaks[0]), uint16(m.peaks[1])
		i := 0
		for ; i+8 <= len(b); i += 8 {
			w := binary.LittleEndian.Uint64(b[i:])
			l = max(l, mag(uint16(w)), mag(uint16(w>>32)))
			r = max(r, mag(uint16(w>>16)), mag(uint16(w>>48)))
		}
		if i+4 <= len(b) {
			l = max(l, mag(binary.LittleEndian.Uint16(b[i:])))
			r = max(r, mag(binary.LittleEndian.Uint16(b[i+2:])))
		}
		m.peaks[0], m.peaks[1] = int(l), int(r)
		return
	}
	for i := 0; i+align <= len(b); i += align {
		for c := range ch {
			m.peaks[c] = max(m.peaks[c], abs16(b[i+2*c:]))
		}
	}
}

func abs16(b []byte) int {
	return int(mag(binary.LittleEndian.Uint16(b)))
}

// mag is the magnitude of a 16-bit two's-complement sample, without a
// branch: -32768 reads as 32768.
func mag(v uint16) uint16 {
	s := uint16(int16(v) >> 15)
	return (v ^ s) - s
}

// Format returns the format with the peaks measured so far.
func (m *Meter) Format() Format {
	f := m.f
	if m.peaks != nil {
		f.Peaks = append([]int(nil), m.peaks...)
	}
	return f
}
