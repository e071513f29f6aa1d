package awsx

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Endpoint says where and as whom to reach AWS: real AWS in Region with the
// default credential chain when URL is empty, or a stand-in at URL with the
// static AccessKey and SecretKey.
type Endpoint struct {
	Region    string
	URL       string
	AccessKey string
	SecretKey string
}

// Load returns the aws.Config for e.
func Load(ctx context.Context, e Endpoint) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(e.Region)}
	if e.URL != "" {
		opts = append(opts,
			awsconfig.WithBaseEndpoint(e.URL),
			awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(e.AccessKey, e.SecretKey, "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}

// NewS3 returns an S3 client on cfg. A stand-in (pathStyle) serves buckets
// by path, not by host.
func NewS3(cfg aws.Config, pathStyle bool) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		// Objects without a checksum (Connect's, and the stand-in's) are
		// normal here; the copy hashes them itself.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// S3 returns an S3 client for e.
func S3(ctx context.Context, e Endpoint) (*s3.Client, error) {
	cfg, err := Load(ctx, e)
	if err != nil {
		return nil, err
	}
	return NewS3(cfg, e.URL != ""), nil
}
