// Package awsx builds the AWS clients connect-ingest uses, in one way for
// every program: a tenant's S3 and Amazon Connect clients (the default
// credential chain, an assumed role, or a stand-in's static credentials),
// and clients for a fixed endpoint (the Firehose backup bucket, the S3
// stand-in). It also reads the ARNs Amazon Connect writes.
package awsx

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/time/rate"

	"github.com/connectingest/connect-ingest/internal/tenant"
)

// Clients builds and caches the AWS clients of each tenant's account. A
// tenant on real AWS is reached with the default credential chain, through
// its IAM role when it has one; a tenant whose endpoint is overridden (a
// local stand-in) is reached with the stand-in's static credentials.
type Clients struct {
	StandInAccessKey string
	StandInSecretKey string
	// ConnectRate and ConnectBurst bound each tenant's Amazon Connect API
	// calls, which share one small account-wide quota.
	ConnectRate  float64
	ConnectBurst int

	mu       sync.Mutex
	s3s      map[string]*s3.Client
	connects map[string]*connect.Client
	limiters map[string]*rate.Limiter
}

// Config returns the aws.Config for a tenant, reaching AWS, or the tenant's
// S3 stand-in where its endpoint is overridden.
func (c *Clients) Config(ctx context.Context, t tenant.Tenant) (aws.Config, error) {
	return c.config(ctx, t, t.AWSEndpointURL)
}

func (c *Clients) config(ctx context.Context, t tenant.Tenant, endpoint string) (aws.Config, error) {
	region, err := Region(t.InstanceARN)
	if err != nil {
		return aws.Config{}, err
	}
	cfg, err := Load(ctx, Endpoint{Region: region, URL: endpoint, AccessKey: c.StandInAccessKey, SecretKey: c.StandInSecretKey})
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config for tenant %s: %w", t.ID, err)
	}
	if t.AWSRoleARN != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), t.AWSRoleARN, func(o *stscreds.AssumeRoleOptions) {
			if t.AWSExternalID != "" {
				o.ExternalID = aws.String(t.AWSExternalID)
			}
			o.RoleSessionName = "connect-ingest-" + t.ID
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return cfg, nil
}

// S3 returns the tenant's S3 client. Clients are cached per tenant and
// settings, so changed settings take effect at once.
func (c *Clients) S3(ctx context.Context, t tenant.Tenant) (*s3.Client, error) {
	return cached(ctx, c, &c.s3s, t, t.AWSEndpointURL, func(cfg aws.Config) *s3.Client {
		return NewS3(cfg, t.AWSEndpointURL != "")
	})
}

// cached returns the client for the tenant, its settings and endpoint from
// clients, building it with build on first use.
func cached[T any](ctx context.Context, c *Clients, clients *map[string]T, t tenant.Tenant, endpoint string, build func(aws.Config) T) (T, error) {
	key := strings.Join([]string{t.ID, t.InstanceARN, endpoint, t.AWSRoleARN, t.AWSExternalID}, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := (*clients)[key]; ok {
		return cl, nil
	}
	cfg, err := c.config(ctx, t, endpoint)
	if err != nil {
		var zero T
		return zero, err
	}
	cl := build(cfg)
	if *clients == nil {
		*clients = map[string]T{}
	}
	(*clients)[key] = cl
	return cl, nil
}

// Connect returns the tenant's Amazon Connect client. Throttling is retried
// with backoff by the SDK, without the retry quota that would otherwise fail
// calls fast during a burst of 429s; Limiter keeps the sync under the quota
// in the first place.
func (c *Clients) Connect(ctx context.Context, t tenant.Tenant) (*connect.Client, error) {
	return cached(ctx, c, &c.connects, t, t.ConnectEndpointURL, func(cfg aws.Config) *connect.Client {
		return connect.NewFromConfig(cfg, func(o *connect.Options) {
			o.Retryer = retry.AddWithMaxAttempts(retry.NewStandard(func(so *retry.StandardOptions) {
				so.RateLimiter = ratelimit.None
			}), 10)
		})
	})
}

// Limiter returns the tenant's Amazon Connect API rate limiter.
func (c *Clients) Limiter(tenantID string) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.limiters[tenantID]; ok {
		return l
	}
	rps, burst := c.ConnectRate, c.ConnectBurst
	if rps <= 0 {
		rps, burst = 2, 5
	}
	l := rate.NewLimiter(rate.Limit(rps), max(burst, 1))
	if c.limiters == nil {
		c.limiters = map[string]*rate.Limiter{}
	}
	c.limiters[tenantID] = l
	return l
}
