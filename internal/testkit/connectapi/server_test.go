package connectapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
)

const instance = "11111111-2222-3333-4444-555555555555"

// client is the real SDK client pointed at srv, retrying at most attempts
// times.
func client(srv *httptest.Server, attempts int) *connect.Client {
	return connect.New(connect.Options{
		Region:           "eu-west-2",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("connectsim", "connectsim-secret", ""),
		RetryMaxAttempts: attempts,
	})
}

func listAll(t *testing.T, c *connect.Client) ([]types.UserSummary, int) {
	t.Helper()
	var users []types.UserSummary
	pages := 0
	p := connect.NewListUsersPaginator(c, &connect.ListUsersInput{InstanceId: aws.String(instance), MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		users = append(users, page.UserSummaryList...)
	}
	return users, pages
}

func TestListUsers(t *testing.T) {
	dir := connectapi.NewDirectory(instance, 2500)
	srv := httptest.NewServer(connectapi.NewServer(dir, 0, 0).Handler())
	t.Cleanup(srv.Close)
	c := client(srv, 3)

	t.Run("the SDK's paginator walks every page of 1,000", func(t *testing.T) {
		users, pages := listAll(t, c)
		if pages != 3 || len(users) != 2500 {
			t.Fatalf("got %d users in %d pages, want 2500 in 3", len(users), pages)
		}
		seen := map[string]bool{}
		for _, u := range users {
			if seen[*u.Id] {
				t.Fatalf("user %s listed twice", *u.Id)
			}
			seen[*u.Id] = true
			if u.LastModifiedTime == nil || u.Username == nil || u.Arn == nil {
				t.Fatalf("summary lacks fields: %+v", u)
			}
		}
	})

	t.Run("a changed user shows a newer LastModifiedTime and a removed one is gone", func(t *testing.T) {
		before, _ := dir.Get(connectapi.GeneratedUser(7).ID)
		time.Sleep(5 * time.Millisecond)
		changed := connectapi.GeneratedUser(7)
		changed.LastName = "Married"
		dir.Put(changed)
		dir.Remove(connectapi.GeneratedUser(8).ID)
		users, _ := listAll(t, c)
		if len(users) != 2499 {
			t.Fatalf("got %d users after a removal, want 2499", len(users))
		}
		for _, u := range users {
			if *u.Id == changed.ID && !u.LastModifiedTime.After(before.LastModified) {
				t.Fatalf("LastModifiedTime %v not after %v", u.LastModifiedTime, before.LastModified)
			}
		}
	})

	t.Run("an unknown instance is ResourceNotFoundException", func(t *testing.T) {
		_, err := c.ListUsers(context.Background(), &connect.ListUsersInput{InstanceId: aws.String("nope")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDescribeUser(t *testing.T) {
	dir := connectapi.NewDirectory(instance, 10)
	srv := httptest.NewServer(connectapi.NewServer(dir, 0, 0).Handler())
	t.Cleanup(srv.Close)
	c := client(srv, 3)
	want := connectapi.GeneratedUser(3)

	t.Run("returns the user's identity, profiles, hierarchy and tags", func(t *testing.T) {
		out, err := c.DescribeUser(context.Background(), &connect.DescribeUserInput{InstanceId: aws.String(instance), UserId: aws.String(want.ID)})
		if err != nil {
			t.Fatal(err)
		}
		u := out.User
		if *u.Username != want.Username || *u.IdentityInfo.FirstName != want.FirstName || *u.IdentityInfo.Email != want.Email ||
			*u.RoutingProfileId != want.RoutingProfileID || u.SecurityProfileIds[0] != "sp-agent" ||
			*u.HierarchyGroupId != want.HierarchyGroupID || u.Tags["team"] != want.Tags["team"] || *u.Arn != dir.ARN(want.ID) {
			t.Fatalf("user = %+v", u)
		}
	})

	t.Run("a removed user is ResourceNotFoundException", func(t *testing.T) {
		dir.Remove(want.ID)
		_, err := c.DescribeUser(context.Background(), &connect.DescribeUserInput{InstanceId: aws.String(instance), UserId: aws.String(want.ID)})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestThrottling(t *testing.T) {
	dir := connectapi.NewDirectory(instance, 10)
	s := connectapi.NewServer(dir, 2, 5)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	t.Run("past the rate the SDK sees Connect's ThrottlingException", func(t *testing.T) {
		c := client(srv, 1)
		throttled := 0
		for range 12 {
			_, err := c.DescribeUser(context.Background(), &connect.DescribeUserInput{InstanceId: aws.String(instance), UserId: aws.String(connectapi.GeneratedUser(1).ID)})
			var te *types.ThrottlingException
			switch {
			case errors.As(err, &te):
				throttled++
			case err != nil:
				t.Fatal(err)
			}
		}
		if throttled == 0 || s.Throttled.Load() != int64(throttled) {
			t.Fatalf("%d calls throttled (server counted %d), want some past a burst of 5", throttled, s.Throttled.Load())
		}
	})

	t.Run("the SDK's own retries back off through throttling", func(t *testing.T) {
		c := client(srv, 10)
		for range 8 {
			if _, err := c.DescribeUser(context.Background(), &connect.DescribeUserInput{InstanceId: aws.String(instance), UserId: aws.String(connectapi.GeneratedUser(2).ID)}); err != nil {
				t.Fatalf("a retried call failed: %v", err)
			}
		}
	})
}
