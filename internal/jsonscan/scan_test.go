package jsonscan_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/jsonscan"
)

// check scans doc as one value with nothing after it.
func check(doc string) error {
	s := jsonscan.Scanner{B: []byte(doc)}
	s.Space()
	if err := s.Skip(0); err != nil {
		return err
	}
	if s.Space(); s.I != len(s.B) {
		return s.Syntax("the end")
	}
	return nil
}

func TestScanner(t *testing.T) {
	t.Run("accepts strict JSON, long plain strings included", func(t *testing.T) {
		for _, doc := range []string{
			`{}`, `[]`, `"x"`, `0`, `-0.5e+10`, `true`, `null`,
			` { "a" : [ 1 , { "b" : null } ] } `,
			`"` + strings.Repeat("abcdefgh", 100) + `é\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"`,
			`"` + strings.Repeat("x", 7) + `\n` + strings.Repeat("y", 9) + `"`,
		} {
			if err := check(doc); err != nil {
				t.Errorf("%.60s: %v", doc, err)
			}
		}
	})

	t.Run("refuses bad syntax wherever it falls in an eight-byte word", func(t *testing.T) {
		for i := range 17 {
			for _, bad := range []string{"\x00", "\x1f", "\n", `"`} {
				doc := `"` + strings.Repeat("a", i) + bad + strings.Repeat("b", 17-i) + `"`
				var je *jsonscan.Error
				if err := check(doc); !errors.As(err, &je) || je.Unstorable {
					t.Errorf("%q: %v, want a syntax error", doc, err)
				}
			}
		}
	})

	t.Run("refuses valid JSON that Postgres cannot store", func(t *testing.T) {
		for _, doc := range []string{
			`"\u0000"`, `"\udc00"`, `"\ud800x"`, `1e309`, strings.Repeat("1", 65),
			strings.Repeat("[", jsonscan.MaxDepth+1) + strings.Repeat("]", jsonscan.MaxDepth+1),
		} {
			var je *jsonscan.Error
			if err := check(doc); !errors.As(err, &je) || !je.Unstorable {
				t.Errorf("%.60s: %v, want unstorable", doc, err)
			}
		}
	})

	t.Run("unquotes what it scanned", func(t *testing.T) {
		got := string(jsonscan.AppendUnquoted(nil, []byte(`a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00z`)))
		if want := "a\"\\/\b\f\n\r\té😀z"; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

// FuzzScanner holds the scanner to encoding/json: whatever it accepts is
// valid JSON, and what it refuses as syntax is not; valid JSON it refuses
// must be unstorable.
func FuzzScanner(f *testing.F) {
	for _, seed := range []string{`{"a":[1,"b\u00e9",null]}`, `"\u0000"`, `[1,]`, `"abcdefgh\"ijklmnop"`, "\"\xff\""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := check(string(doc))
		valid := json.Valid(doc)
		var je *jsonscan.Error
		switch {
		case err == nil && !valid:
			t.Fatalf("accepted %q, which encoding/json refuses", doc)
		case err != nil && !errors.As(err, &je):
			t.Fatalf("unclassified error %v", err)
		case err != nil && valid && !je.Unstorable:
			t.Fatalf("refused valid JSON %q as syntax: %v", doc, err)
		}
	})
}
