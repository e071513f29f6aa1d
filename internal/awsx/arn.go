package awsx

import (
	"fmt"
	"strings"
)

// Region returns the AWS region of an ARN, such as a Connect instance's
// (arn:aws:connect:REGION:ACCOUNT:instance/ID).
func Region(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 || parts[3] == "" {
		return "", fmt.Errorf("ARN %q has no region", arn)
	}
	return parts[3], nil
}

// AgentUserID returns the Connect user ID at the end of an agent ARN
// (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE/agent/USER), or "" when
// arn names no agent.
func AgentUserID(arn string) string {
	i := strings.LastIndex(arn, "/agent/")
	if i < 0 {
		return ""
	}
	return arn[i+len("/agent/"):]
}
