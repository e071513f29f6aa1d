package activities_test

import (
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/activities"
)

func TestParseLocation(t *testing.T) {
	t.Run("splits bucket/key at the first slash and keeps colons in the key", func(t *testing.T) {
		l, err := activities.ParseLocation("acme-rec/connect/acme/CallRecordings/2026/11/24/c1_20261124T09:24_UTC.wav")
		if err != nil {
			t.Fatal(err)
		}
		if l.Bucket != "acme-rec" || l.Key != "connect/acme/CallRecordings/2026/11/24/c1_20261124T09:24_UTC.wav" {
			t.Fatalf("got %+v", l)
		}
	})
	for _, bad := range []string{
		"s3://acme-rec/key.wav",
		"https://acme-rec.s3.amazonaws.com/key.wav",
		"acme-rec",
		"acme-rec/",
		"acme-rec//etc/passwd",
		"acme-rec/../other/key.wav",
		"acme-rec/a/./b.wav",
		"acme-rec/a\\b.wav",
		"Acme_Rec/key.wav",
		"acme-rec/key\x00.wav",
		"/acme-rec/key.wav",
		"acme-rec/" + strings.Repeat("k", activities.MaxKeyBytes+1),
		"acme-rec/key\xff.wav",
	} {
		name := strings.ReplaceAll(bad, "\x00", `\0`)
		if len(name) > 60 {
			name = name[:60] + "…"
		}
		t.Run("refuses "+name, func(t *testing.T) {
			if l, err := activities.ParseLocation(bad); err == nil {
				t.Fatalf("accepted as %+v", l)
			}
		})
	}
}

func TestCheckAllowed(t *testing.T) {
	l := activities.Location{Bucket: "acme-rec", Key: "k.wav"}
	if err := l.CheckAllowed([]string{"other", "acme-rec"}); err != nil {
		t.Fatalf("allowed bucket refused: %v", err)
	}
	if err := l.CheckAllowed([]string{"other"}); err == nil {
		t.Fatal("a bucket outside the tenant's list was allowed")
	}
}

func TestObjectKey(t *testing.T) {
	day := time.Date(2026, 11, 24, 23, 30, 0, 0, time.FixedZone("X", -3600))
	k := activities.ObjectKey("acme", "c-1", day, "b/x/rec_20261124T09:24_UTC.WAV")
	t.Run("is per tenant, UTC day and contact, and keeps the extension", func(t *testing.T) {
		if !strings.HasPrefix(k, "acme/2026/11/25/c-1/") || !strings.HasSuffix(k, ".wav") {
			t.Fatalf("key = %q", k)
		}
	})
	t.Run("is the same for the same recording and differs for another", func(t *testing.T) {
		if k2 := activities.ObjectKey("acme", "c-1", day, "b/x/rec_20261124T09:24_UTC.WAV"); k2 != k {
			t.Fatalf("%q != %q", k2, k)
		}
		if k3 := activities.ObjectKey("acme", "c-1", day, "b/x/other.wav"); k3 == k {
			t.Fatal("two recordings share a key")
		}
	})
}
