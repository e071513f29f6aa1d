package activities

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/connectingest/connect-ingest/internal/store"
)

// AWSClients builds and caches the AWS clients of each tenant's account. A
// tenant on real AWS is reached with the default credential chain, through
// its IAM role when it has one; a tenant whose endpoint is overridden (a
// local stand-in) is reached with the stand-in's static credentials.
type AWSClients struct {
	StandInAccessKey string
	StandInSecretKey string

	mu  sync.Mutex
	s3s map[string]*s3.Client
}

// Region returns the AWS region of a Connect instance ARN.
func Region(instanceARN string) (string, error) {
	parts := strings.Split(instanceARN, ":")
	if len(parts) < 6 || parts[3] == "" {
		return "", fmt.Errorf("instance ARN %q has no region", instanceARN)
	}
	return parts[3], nil
}

// Config returns the aws.Config for a tenant.
func (c *AWSClients) Config(ctx context.Context, t store.Tenant) (aws.Config, error) {
	region, err := Region(t.InstanceARN)
	if err != nil {
		return aws.Config{}, err
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if t.AWSEndpointURL != "" {
		opts = append(opts,
			awsconfig.WithBaseEndpoint(t.AWSEndpointURL),
			awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.StandInAccessKey, c.StandInSecretKey, "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
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
func (c *AWSClients) S3(ctx context.Context, t store.Tenant) (*s3.Client, error) {
	key := strings.Join([]string{t.ID, t.InstanceARN, t.AWSEndpointURL, t.AWSRoleARN, t.AWSExternalID}, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.s3s[key]; ok {
		return cl, nil
	}
	cfg, err := c.Config(ctx, t)
	if err != nil {
		return nil, err
	}
	cl := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// Stand-ins such as MinIO serve buckets by path, not by host.
		o.UsePathStyle = t.AWSEndpointURL != ""
		// Objects without a checksum (Connect's, and the stand-in's) are
		// normal here; the copy hashes them itself.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if c.s3s == nil {
		c.s3s = map[string]*s3.Client{}
	}
	c.s3s[key] = cl
	return cl, nil
}
