package firehose

import "github.com/connectingest/connect-ingest/internal/jsonscan"

// MaxRequestIDBytes bounds a delivery's request ID. Firehose's own are UUIDs
// (36 characters); the bound leaves room for other senders while keeping an
// ID small wherever it goes: an AMQP header, a unique index, log lines and
// the response.
const MaxRequestIDBytes = 128

// CheckRequestID refuses a request ID that is empty, longer than
// MaxRequestIDBytes, or holds a character other than an ASCII letter, a
// digit, '-', '_', '.' or ':'. Its error quotes none of the ID.
func CheckRequestID(id string) error {
	if id == "" {
		return malformed("request ID is empty")
	}
	if len(id) > MaxRequestIDBytes {
		return malformed("request ID has %d bytes, more than %d", len(id), MaxRequestIDBytes)
	}
	for i := range len(id) {
		if !requestIDByte(id[i]) {
			return malformed("request ID has %s at byte %d; want letters, digits, '-', '_', '.' or ':'", jsonscan.ByteName(id[i]), i)
		}
	}
	return nil
}

func requestIDByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return b == '-' || b == '_' || b == '.' || b == ':'
}
