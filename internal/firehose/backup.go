package firehose

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// BackupRecord is one line of an object Firehose writes to its S3 backup
// bucket for a record it could not deliver to the HTTP endpoint: the record
// itself in RawData (base64, as in a delivery), with why and when it
// failed.
type BackupRecord struct {
	AttemptsMade           int    `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	RawData                string `json:"rawData"`
	// Line is the record's line in its object, from 1.
	Line int `json:"-"`
}

// Arrival is when Firehose received the record.
func (r BackupRecord) Arrival() time.Time {
	return time.UnixMilli(r.ArrivalTimestamp).UTC()
}

// Record is the record as a delivery would have carried it.
func (r BackupRecord) Record() Record {
	return Record{Data: r.RawData}
}

// BadBackupLine is a line of a backup object that is not a backup record.
type BadBackupLine struct {
	Line int
	Err  error
}

// maxBackupLine bounds one line of a backup object: a record is at most
// 1,000 KiB before base64, so its line is well under 2 MiB.
const maxBackupLine = 4 << 20

// ReadBackup reads a backup object, plain or gzip-compressed (as Firehose
// writes it when the backup's compression is GZIP), and calls fn for each
// record in order. Lines that are not backup records are returned, not
// skipped silently; an error from fn or from reading stops the read.
func ReadBackup(r io.Reader, fn func(BackupRecord) error) ([]BadBackupLine, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open gzip backup object: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), maxBackupLine)
	var bad []BadBackupLine
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		// Firehose spells the error fields errorCode/errorMessage for HTTP
		// endpoints and ErrorCode/ErrorMessage elsewhere; JSON decoding
		// matches either.
		var rec BackupRecord
		if err := json.Unmarshal(text, &rec); err != nil {
			bad = append(bad, BadBackupLine{Line: line, Err: err})
			continue
		}
		if rec.RawData == "" {
			bad = append(bad, BadBackupLine{Line: line, Err: fmt.Errorf("no rawData")})
			continue
		}
		rec.Line = line
		if err := fn(rec); err != nil {
			return bad, err
		}
	}
	if err := sc.Err(); err != nil {
		return bad, fmt.Errorf("read backup object at line %d: %w", line+1, err)
	}
	return bad, nil
}
