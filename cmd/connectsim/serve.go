package main

import (
	"cmp"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/httpserver"
	"github.com/connectingest/connect-ingest/internal/testkit/connectapi"
)

// serveCmd serves the Amazon Connect user API (ListUsers, DescribeUser) and
// contact API (SearchContacts, DescribeContact) for one instance, for the
// agent sync and the reconciliation to read through the real SDK client.
func (a *app) serveCmd() *cobra.Command {
	var addr, instanceID, contactsFile, accessKey, secretKey string
	var users, burst int
	var perSecond float64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve Amazon Connect's user and contact APIs for one instance, throttled as Connect is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := connectapi.NewDirectory(instanceID, users)
			api := connectapi.NewServer(dir, perSecond, burst).WithCredentials(accessKey, secretKey)
			if contactsFile != "" {
				api.WithContacts(connectapi.ContactsFromFile(contactsFile))
			}
			srv := &http.Server{Addr: addr, Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(a.stdout, "connectsim: Amazon Connect API for instance %s with %d users on http://%s (%.1f requests/s, burst %d)\n",
				instanceID, users, addr, perSecond, burst)
			return httpserver.Serve(cmd.Context(), srv)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:9200", "listen address")
	f.StringVar(&instanceID, "instance-id", "0d3e1f00-demo-4c0n-8ec7-000000000001", "the Connect instance ID")
	f.IntVar(&users, "users", 50, "users in the instance")
	f.Float64Var(&perSecond, "rate", 2, "requests per second before 429 ThrottlingException (0: unlimited); Connect's default is about 2")
	f.IntVar(&burst, "burst", 5, "burst above the rate")
	f.StringVar(&accessKey, "access-key", cmp.Or(a.getenv("S3_STANDIN_ACCESS_KEY"), connectapi.DefaultAccessKey),
		"the one access key whose Signature Version 4 is accepted; anything else is 403, as AWS answers")
	f.StringVar(&secretKey, "secret-key", cmp.Or(a.getenv("S3_STANDIN_SECRET_KEY"), connectapi.DefaultSecretKey), "its secret key")
	f.StringVar(&contactsFile, "contacts", "", "serve SearchContacts and DescribeContact from this file, which `connectsim day --contacts` appends to")
	return cmd
}
