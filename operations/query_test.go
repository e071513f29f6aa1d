package operations

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
)

func TestFilterValidate(t *testing.T) {
	t.Run("refuses what no call can match, as ErrInvalid", func(t *testing.T) {
		for name, f := range map[string]Filter{
			"a quote in the tenant":  {TenantID: "acme' OR 1=1"},
			"a backslash":            {TenantID: `acme\`},
			"an unknown state":       {State: "deleted"},
			"stuck and failed":       {Stuck: true, Failed: true},
			"a limit over the bound": {Limit: MaxLimit + 1},
			"a negative limit":       {Limit: -1},
			"a negative age":         {OlderThan: -time.Hour},
		} {
			if err := f.Validate(); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
	})
	t.Run("accepts a well-formed filter", func(t *testing.T) {
		if err := (Filter{TenantID: "acme", State: conversation.Failed, Limit: MaxLimit}).Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestQuote(t *testing.T) {
	t.Run("a string literal cannot be closed from inside", func(t *testing.T) {
		for in, want := range map[string]string{
			"acme":          `'acme'`,
			`a'b`:           `'a\'b'`,
			`a\' OR 1=1 --`: `'a\\\' OR 1=1 --'`,
		} {
			if got := quote(in); got != want {
				t.Errorf("quote(%q) = %s, want %s", in, got, want)
			}
		}
	})
	t.Run("the query names the tenant once, quoted", func(t *testing.T) {
		q := (&Service{}).query(Filter{TenantID: "acme"}, time.Now())
		if strings.Count(q, "TenantId = 'acme'") != 1 {
			t.Fatalf("query %s", q)
		}
	})
}
