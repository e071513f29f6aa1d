package connectapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/smithy-go"

	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
)

func TestSignatureRequired(t *testing.T) {
	api := connectapi.NewServer(connectapi.NewDirectory(instance, 3), 0, 0)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	signedWith := func(key, secret string) *connect.Client {
		return connect.New(connect.Options{Region: "eu-west-2", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	}
	list := func(c *connect.Client) error {
		_, err := c.ListUsers(context.Background(), &connect.ListUsersInput{InstanceId: aws.String(instance)})
		return err
	}

	t.Run("a request signed with the stand-in's key is answered", func(t *testing.T) {
		if err := list(signedWith(connectapi.DefaultAccessKey, connectapi.DefaultSecretKey)); err != nil {
			t.Fatal(err)
		}
	})

	for name, tc := range map[string]struct {
		key, secret, code string
	}{
		"an unknown key is refused as AWS refuses it": {"AKIAUNKNOWN", connectapi.DefaultSecretKey, "UnrecognizedClientException"},
		"a wrong secret does not match the signature": {connectapi.DefaultAccessKey, "not-the-secret", "InvalidSignatureException"},
	} {
		t.Run(name, func(t *testing.T) {
			var api smithy.APIError
			if err := list(signedWith(tc.key, tc.secret)); !errors.As(err, &api) || api.ErrorCode() != tc.code {
				t.Fatalf("error %v, want %s", err, tc.code)
			}
		})
	}

	t.Run("an unsigned request is 403", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/users-summary/" + instance)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
		if api.Refused.Load() != 3 {
			t.Errorf("%d requests counted refused, want 3", api.Refused.Load())
		}
	})
}
