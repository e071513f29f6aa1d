package main

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/internal/httpserver"
	"github.com/connectingest/connect-ingest/internal/testkit/s3role"
)

// s3RoleCmd puts a least-privilege IAM role's permissions in front of the S3
// stand-in, so that a tenant pointed at it meets S3's answers to such a
// role: 403 for a missing object without s3:ListBucket, 403 for keys the
// role may not read, and KMS refusals.
func (a *app) s3RoleCmd() *cobra.Command {
	var addr, upstream string
	var p s3role.Policy
	cmd := &cobra.Command{
		Use:   "s3-role",
		Short: "Answer as S3 answers a least-privilege role, in front of the S3 stand-in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := url.Parse(upstream)
			if err != nil || u.Host == "" {
				return fmt.Errorf("--upstream %q: want the S3 stand-in's URL", upstream)
			}
			srv := &http.Server{Addr: addr, Handler: s3role.New(u, p), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(a.stdout, "connectsim: S3 as role %s sees it on http://%s (s3:ListBucket %v, %d denied prefixes, %d KMS keys)\n",
				s3role.RoleARN, addr, p.ListBucket, len(p.DenyPrefixes), len(p.KMSKeys))
			return httpserver.Serve(cmd.Context(), srv)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:9110", "listen address")
	f.StringVar(&upstream, "upstream", "http://127.0.0.1:9100", "the S3 stand-in")
	f.BoolVar(&p.ListBucket, "list-bucket", false, "the role has s3:ListBucket (without it a missing object is 403)")
	f.StringSliceVar(&p.DenyPrefixes, "deny-prefix", nil, "keys the role may not read (repeatable)")
	f.StringSliceVar(&p.KMSKeys, "kms-key", nil, "KMS key ARNs whose key policy lets the role decrypt (repeatable)")
	return cmd
}
