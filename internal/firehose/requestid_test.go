package firehose

import (
	"strings"
	"testing"
)

func TestCheckRequestID(t *testing.T) {
	t.Run("accepts Firehose's UUIDs and IDs of letters, digits and - _ . :", func(t *testing.T) {
		for _, id := range []string{"ed4acda5-034f-9f42-bba1-f29aea6d7d8f", "req-1", "a.b_c:d", strings.Repeat("x", MaxRequestIDBytes)} {
			if err := CheckRequestID(id); err != nil {
				t.Errorf("%q: %v", id, err)
			}
		}
	})
	t.Run("refuses an empty, overlong or odd-charactered ID without quoting it", func(t *testing.T) {
		for _, id := range []string{"", strings.Repeat("x", MaxRequestIDBytes+1), "a b", "a\nb", "a\x00b", "ä", "a/b", `a"b`, "a\u202eb"} {
			err := CheckRequestID(id)
			if err == nil {
				t.Errorf("%q accepted", id)
				continue
			}
			if _, ok := err.(*MalformedError); !ok {
				t.Errorf("%q: %T, want *MalformedError", id, err)
			}
			if id != "" && strings.Contains(err.Error(), id) {
				t.Errorf("%q: the error quotes the ID: %v", id, err)
			}
		}
	})
}
