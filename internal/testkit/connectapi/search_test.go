package connectapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
)

var day = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// dayOfContacts is n contacts that ended a minute apart from 08:00.
func dayOfContacts(n int) *connectapi.Contacts {
	cs := connectapi.NewContacts()
	for i := range n {
		start := day.Add(8*time.Hour + time.Duration(i)*time.Minute)
		cs.Put(connectapi.Contact{ID: fmt.Sprintf("c-%04d", i), Channel: "VOICE", InitiationMethod: "INBOUND",
			InitiationTimestamp: start.Add(-5 * time.Minute), DisconnectTimestamp: start, LastUpdateTimestamp: start.Add(30 * time.Second),
			AgentID: "agent-1", Attributes: map[string]string{"n": fmt.Sprint(i)}})
	}
	return cs
}

func search(from, to time.Time) *connect.SearchContactsInput {
	return &connect.SearchContactsInput{InstanceId: aws.String(instance), MaxResults: aws.Int32(100),
		TimeRange: &types.SearchContactsTimeRange{Type: types.SearchContactsTimeRangeTypeDisconnectTimestamp, StartTime: aws.Time(from), EndTime: aws.Time(to)}}
}

func TestSearchContacts(t *testing.T) {
	srv := httptest.NewServer(connectapi.NewServer(connectapi.NewDirectory(instance, 0), 0, 0).WithContacts(dayOfContacts(250)).Handler())
	t.Cleanup(srv.Close)
	c := client(srv, 1)
	ctx := context.Background()

	t.Run("the SDK's paginator walks every contact of the range once, in pages of 100", func(t *testing.T) {
		p := connect.NewSearchContactsPaginator(c, search(day.Add(8*time.Hour), day.Add(12*time.Hour)))
		seen := map[string]bool{}
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, s := range page.Contacts {
				if seen[*s.Id] {
					t.Fatalf("%s listed twice", *s.Id)
				}
				seen[*s.Id] = true
				if s.DisconnectTimestamp == nil || s.AgentInfo == nil || *s.AgentInfo.Id != "agent-1" || s.Channel != types.ChannelVoice {
					t.Fatalf("summary %+v", s)
				}
			}
		}
		// 08:00 to 12:00 inclusive: contacts 0 to 240.
		if len(seen) != 241 || pages != 3 {
			t.Fatalf("%d contacts in %d pages, want 241 in 3", len(seen), pages)
		}
	})

	t.Run("refuses a page over 100, a range that ends before it starts, and a token of another search", func(t *testing.T) {
		in := search(day, day.Add(24*time.Hour))
		in.MaxResults = aws.Int32(101)
		var invalid *types.InvalidParameterException
		if _, err := c.SearchContacts(ctx, in); !errors.As(err, &invalid) {
			t.Errorf("MaxResults 101: %v", err)
		}
		if _, err := c.SearchContacts(ctx, search(day.Add(time.Hour), day)); !errors.As(err, &invalid) {
			t.Errorf("reversed range: %v", err)
		}
		first, err := c.SearchContacts(ctx, search(day, day.Add(24*time.Hour)))
		if err != nil || first.NextToken == nil {
			t.Fatalf("first page: %v", err)
		}
		other := search(day, day.Add(12*time.Hour))
		other.NextToken = first.NextToken
		if _, err := c.SearchContacts(ctx, other); !errors.As(err, &invalid) {
			t.Errorf("a token of another search: %v", err)
		}
	})

	t.Run("DescribeContact gives the attributes and recordings; an unknown contact is not found", func(t *testing.T) {
		out, err := c.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(instance), ContactId: aws.String("c-0007")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Contact.Attributes["n"] != "7" || out.Contact.LastUpdateTimestamp == nil || out.Contact.InitiationMethod != types.ContactInitiationMethodInbound {
			t.Errorf("contact %+v", out.Contact)
		}
		var nf *types.ResourceNotFoundException
		if _, err := c.DescribeContact(ctx, &connect.DescribeContactInput{InstanceId: aws.String(instance), ContactId: aws.String("nobody")}); !errors.As(err, &nf) {
			t.Errorf("unknown contact: %v", err)
		}
	})
}

func TestContactsFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contacts.jsonl")
	cs := connectapi.ContactsFromFile(path)
	srv := httptest.NewServer(connectapi.NewServer(connectapi.NewDirectory(instance, 0), 0, 0).WithContacts(cs).Handler())
	t.Cleanup(srv.Close)
	c := client(srv, 1)
	count := func() int {
		out, err := c.SearchContacts(context.Background(), search(day, day.Add(24*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Contacts)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d contacts before the file exists", n)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for i := range 3 {
		ts := day.Add(time.Duration(9+i) * time.Hour)
		if err := enc.Encode(connectapi.Contact{ID: fmt.Sprint("f-", i), Channel: "VOICE", InitiationMethod: "INBOUND",
			InitiationTimestamp: ts, DisconnectTimestamp: ts.Add(time.Minute), LastUpdateTimestamp: ts.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 3 {
		t.Fatalf("%d contacts after three lines were written, want 3", n)
	}
	// A line still being written is taken up once it is whole.
	if _, err := f.WriteString(`{"ID":"f-3","Channel":"VOICE","InitiationMethod":"INBOUND","InitiationTimestamp":"2026-11-24T15:00:00Z",`); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d contacts with a partial line, want 3", n)
	}
	if _, err := f.WriteString(`"DisconnectTimestamp":"2026-11-24T15:05:00Z","LastUpdateTimestamp":"2026-11-24T15:05:00Z"}` + "\n"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 4 {
		t.Fatalf("%d contacts once the line is whole, want 4", n)
	}
}
