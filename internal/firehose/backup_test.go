package firehose_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"testing"

	"github.com/connectingest/connect-ingest/internal/firehose"
)

const backupSample = `{"attemptsMade":4,"arrivalTimestamp":1764000000000,"errorCode":"HttpEndpoint.DestinationException","errorMessage":"503","attemptEndingTimestamp":1764000300000,"rawData":"` + "eyJDb250YWN0SWQiOiJjLTEifQ==" + `"}
not json at all

{"attemptsMade":1,"arrivalTimestamp":1764000001000,"ErrorCode":"HttpEndpoint.RequestTimeout","rawData":"eyJDb250YWN0SWQiOiJjLTIifQ=="}
{"attemptsMade":1,"arrivalTimestamp":1764000002000}
`

func TestReadBackup(t *testing.T) {
	check := func(t *testing.T, object []byte) {
		var got []firehose.BackupRecord
		bad, err := firehose.ReadBackup(bytes.NewReader(object), func(r firehose.BackupRecord) error {
			got = append(got, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Line != 1 || got[1].Line != 4 || got[0].ErrorCode != "HttpEndpoint.DestinationException" || got[1].ErrorCode != "HttpEndpoint.RequestTimeout" {
			t.Fatalf("records = %+v", got)
		}
		if data, _ := base64.StdEncoding.DecodeString(got[1].RawData); string(data) != `{"ContactId":"c-2"}` {
			t.Fatalf("rawData decodes to %q", data)
		}
		if got[0].Arrival().Unix() != 1764000000 {
			t.Fatalf("arrival = %v", got[0].Arrival())
		}
		if len(bad) != 2 || bad[0].Line != 2 || bad[1].Line != 5 {
			t.Fatalf("bad lines = %+v, want lines 2 and 5 reported", bad)
		}
	}
	t.Run("a plain object: records in order, bad lines reported with their numbers", func(t *testing.T) {
		check(t, []byte(backupSample))
	})
	t.Run("a gzip-compressed object reads the same", func(t *testing.T) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(backupSample))
		_ = zw.Close()
		check(t, buf.Bytes())
	})
}
