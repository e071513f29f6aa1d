package accesskey_test

import (
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/accesskey"
)

func TestGenerate(t *testing.T) {
	t.Run("makes distinct keys long enough to validate", func(t *testing.T) {
		a, b := accesskey.Generate(), accesskey.Generate()
		if a == b {
			t.Fatalf("two generated keys are equal: %q", a)
		}
		if err := accesskey.Validate(a); err != nil {
			t.Fatalf("generated key does not validate: %v", err)
		}
	})
}

func TestValidate(t *testing.T) {
	t.Run("refuses a short key", func(t *testing.T) {
		if err := accesskey.Validate("short"); err == nil {
			t.Fatal("want an error for a 5-character key")
		}
	})
	t.Run("refuses a key longer than Firehose allows", func(t *testing.T) {
		if err := accesskey.Validate(strings.Repeat("k", accesskey.MaxLength+1)); err == nil {
			t.Fatal("want an error for an over-long key")
		}
	})
}

func TestHashAndID(t *testing.T) {
	t.Run("hash is SHA-256 and the ID is its first 12 hex digits", func(t *testing.T) {
		h := accesskey.Hash("abc")
		// SHA-256("abc") is a published test vector.
		if got := accesskey.ID(h); got != "ba7816bf8f01" {
			t.Fatalf("ID = %q, want ba7816bf8f01", got)
		}
	})
}
