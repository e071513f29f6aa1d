// Package accesscheck proves that connect-ingest can reach a tenant's AWS
// side with the access the tenant gave it: list and read the recording
// buckets, decrypt their objects, read the Connect instance's users and
// contacts. Each check that fails names the permission missing and the
// policy statement that grants it, so that the tenant's AWS administrator
// fixes it before the first call is lost to it.
package accesscheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// Status is how a check ended.
type Status string

// The statuses: the permission works, is missing, could not be tested (an
// earlier check failed or there is nothing to test it on), or the check
// failed for another reason (the network, a throttle).
const (
	OK      Status = "ok"
	Missing Status = "missing"
	Skipped Status = "skipped"
	Failed  Status = "error"
)

// Result is one check.
type Result struct {
	// Check names what was tried, with the resource.
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Detail is what AWS answered, or why the check was skipped.
	Detail string `json:"detail,omitempty"`
	// Fix is the policy statement that grants a missing permission, and
	// where it goes.
	Fix string `json:"fix,omitempty"`
}

// Checker runs the checks with the worker's own AWS clients, so that it
// meets exactly the credentials, role and endpoints the worker does.
type Checker struct {
	AWS *awsx.Clients
}

// Run checks every recording bucket of every instance of the tenant, and
// its primary instance's Amazon Connect APIs.
func (c *Checker) Run(ctx context.Context, t tenant.Tenant) ([]Result, error) {
	var out []Result
	s3c, err := c.AWS.S3(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", t.ID, err)
	}
	for _, b := range t.AllRecordingBuckets() {
		out = append(out, checkBucket(ctx, s3c, t, b)...)
	}
	cc, err := c.AWS.Connect(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("Connect client for %s: %w", t.ID, err)
	}
	return append(out, checkConnect(ctx, cc, t)...), nil
}

// checkBucket lists the bucket, then reads and decrypts one object of it.
func checkBucket(ctx context.Context, c *s3.Client, t tenant.Tenant, bucket string) []Result {
	list := Result{Check: "s3:ListBucket on " + bucket}
	page, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
	switch {
	case denied(err):
		list.Status, list.Detail = Missing, errText(err)
		list.Fix = statement("s3:ListBucket", "arn:aws:s3:::"+bucket) + " (in the role's policy; without it a missing recording looks like a forbidden one, 403)"
		return []Result{list, {Check: "s3:GetObject on " + bucket + "/*", Status: Skipped, Detail: "no object listed to read"}}
	case err != nil:
		list.Status, list.Detail = Failed, errText(err)
		return []Result{list}
	}
	list.Status = OK
	if len(page.Contents) == 0 {
		return []Result{list, {Check: "s3:GetObject on " + bucket + "/*", Status: Skipped, Detail: "the bucket is empty: nothing to read yet"}}
	}
	key := aws.ToString(page.Contents[0].Key)
	get := Result{Check: fmt.Sprintf("s3:GetObject and decryption of s3://%s/%s", bucket, key)}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String("bytes=0-0")})
	switch {
	case err == nil:
		_ = obj.Body.Close()
		get.Status = OK
	case awsx.IsKMSRefusal(err):
		get.Status, get.Detail = Missing, errText(err)
		get.Fix = fmt.Sprintf(`{"Effect": "Allow", "Principal": {"AWS": %q}, "Action": "kms:Decrypt", "Resource": "*"}`, roleOf(t)) +
			" (in the key policy of the KMS key that encrypts the bucket)"
	case denied(err):
		get.Status, get.Detail = Missing, errText(err)
		get.Fix = statement("s3:GetObject", "arn:aws:s3:::"+bucket+"/*") + " (in the role's policy)"
	default:
		get.Status, get.Detail = Failed, errText(err)
	}
	return []Result{list, get}
}

// checkConnect calls each Amazon Connect API connect-ingest uses, once.
func checkConnect(ctx context.Context, c *connect.Client, t tenant.Tenant) []Result {
	instanceID := t.InstanceARN[strings.LastIndex(t.InstanceARN, "/")+1:]
	id := aws.String(instanceID)
	users := t.InstanceARN + "/agent/*"
	var out []Result
	try := func(action, resource, why string, call func() error) error {
		r := Result{Check: action + " on " + t.InstanceARN}
		err := call()
		switch {
		case err == nil:
			r.Status = OK
		case denied(err):
			r.Status, r.Detail = Missing, errText(err)
			r.Fix = statement(action, t.InstanceARN, resource) + " (in the role's policy; " + why + ")"
		default:
			r.Status, r.Detail = Failed, errText(err)
		}
		out = append(out, r)
		return err
	}
	_ = try("connect:SearchUsers", users, "the agent sync reads 100 users a call with it, and falls back to ListUsers without it", func() error {
		_, err := c.SearchUsers(ctx, &connect.SearchUsersInput{InstanceId: id, MaxResults: aws.Int32(1)})
		return err
	})
	var first string
	err := try("connect:ListUsers", users, "the agent sync needs it where SearchUsers is refused", func() error {
		page, err := c.ListUsers(ctx, &connect.ListUsersInput{InstanceId: id, MaxResults: aws.Int32(1)})
		if err == nil && len(page.UserSummaryList) > 0 {
			first = aws.ToString(page.UserSummaryList[0].Id)
		}
		return err
	})
	if err == nil && first != "" {
		_ = try("connect:DescribeUser", users, "the agent sync describes changed users with it", func() error {
			_, err := c.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: id, UserId: aws.String(first)})
			return err
		})
	} else {
		out = append(out, Result{Check: "connect:DescribeUser on " + t.InstanceARN, Status: Skipped, Detail: "no user listed to describe"})
	}
	now := time.Now()
	_ = try("connect:SearchContacts", t.InstanceARN+"/contact/*", "the nightly reconciliation finds missed contacts with it", func() error {
		_, err := c.SearchContacts(ctx, &connect.SearchContactsInput{InstanceId: id, MaxResults: aws.Int32(1),
			TimeRange: &types.SearchContactsTimeRange{Type: types.SearchContactsTimeRangeTypeDisconnectTimestamp,
				StartTime: aws.Time(now.Add(-24 * time.Hour)), EndTime: aws.Time(now)}})
		return err
	})
	return out
}

// statement is an IAM policy statement that allows action on resources.
func statement(action string, resources ...string) string {
	quoted := make([]string, len(resources))
	for i, r := range resources {
		quoted[i] = fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf(`{"Effect": "Allow", "Action": %q, "Resource": [%s]}`, action, strings.Join(quoted, ", "))
}

// roleOf names the principal the worker acts as for the tenant.
func roleOf(t tenant.Tenant) string {
	if t.AWSRoleARN != "" {
		return t.AWSRoleARN
	}
	return "arn:aws:iam::ACCOUNT:role/ROLE (the worker's own credentials)"
}

// denied reports AWS refusing for want of a permission: 403, or an
// AccessDenied code.
func denied(err error) bool {
	if awsx.HTTPStatus(err) == 403 {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && strings.Contains(api.ErrorCode(), "AccessDenied")
}

// errText is AWS's answer, without the SDK's operation preamble.
func errText(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return err.Error()
}
