package tenant

import (
	"fmt"
	"slices"
	"strings"
)

// Instance is one more Amazon Connect instance of a tenant, beside the
// primary that InstanceARN names: another country's instance, or a Global
// Resiliency replica in another Region. CTRs from any of a tenant's
// instances are accepted with its access key.
type Instance struct {
	ARN string
	// RecordingBuckets are the buckets this instance records into; a
	// recording in any bucket of the tenant's instances may be copied.
	RecordingBuckets []string
	// ReplicaOf is the ARN of the instance this one replicates (Global
	// Resiliency: the same instance ID in another Region); empty for an
	// instance of its own. A replica shares its users, so agents are
	// synced from the instance it replicates.
	ReplicaOf string
}

// InstanceARNs lists every instance of the tenant, the primary first.
func (t Tenant) InstanceARNs() []string {
	arns := []string{t.InstanceARN}
	for _, in := range t.Instances {
		arns = append(arns, in.ARN)
	}
	return arns
}

// HasInstance reports whether arn is one of the tenant's instances.
func (t Tenant) HasInstance(arn string) bool {
	return slices.Contains(t.InstanceARNs(), arn)
}

// AllRecordingBuckets lists the recording buckets of every instance of the
// tenant, each once.
func (t Tenant) AllRecordingBuckets() []string {
	out := slices.Clone(t.RecordingBuckets)
	for _, in := range t.Instances {
		for _, b := range in.RecordingBuckets {
			if !slices.Contains(out, b) {
				out = append(out, b)
			}
		}
	}
	return out
}

// SyncedInstanceARNs lists the instances whose users the agent sync reads:
// the primary and each instance of its own, never a replica.
func (t Tenant) SyncedInstanceARNs() []string {
	arns := []string{t.InstanceARN}
	for _, in := range t.Instances {
		if in.ReplicaOf == "" {
			arns = append(arns, in.ARN)
		}
	}
	return arns
}

// ValidateInstance reports why in cannot be added to t: a malformed ARN or
// bucket, an instance the tenant has already, or a replica that is not one
// of a tenant's instance in another Region with the same instance ID.
func (t Tenant) ValidateInstance(in Instance) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	if !instanceARNPattern.MatchString(in.ARN) {
		return bad("--instance-arn %q: want arn:aws:connect:REGION:ACCOUNT:instance/ID", in.ARN)
	}
	if t.HasInstance(in.ARN) {
		return bad("--instance-arn %q: the tenant has this instance already", in.ARN)
	}
	for _, b := range in.RecordingBuckets {
		if !ValidBucketName(b) {
			return bad("--recording-bucket %q: not an S3 bucket name (3-63 lower-case letters, digits, '.' and '-')", b)
		}
	}
	if in.ReplicaOf == "" {
		return nil
	}
	if !t.HasInstance(in.ReplicaOf) {
		return bad("--replica-of %q: not an instance of tenant %s", in.ReplicaOf, t.ID)
	}
	region, id := arnParts(in.ARN)
	primaryRegion, primaryID := arnParts(in.ReplicaOf)
	if id != primaryID || region == primaryRegion {
		return bad("--replica-of %q: a Global Resiliency replica has the same instance ID in another Region", in.ReplicaOf)
	}
	return nil
}

// arnParts returns the Region and instance ID of an instance ARN.
func arnParts(arn string) (region, id string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	return parts[3], strings.TrimPrefix(parts[5], "instance/")
}
