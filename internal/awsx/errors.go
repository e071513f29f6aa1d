package awsx

import (
	"errors"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// HTTPStatus is the HTTP status of AWS's answer behind err, or 0 when
// there was none.
func HTTPStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// IsKMSRefusal reports a refusal by the KMS key that encrypts an object:
// S3 answers 403 AccessDenied naming kms:Decrypt when the key policy leaves
// the caller out, and KMS.* codes for a key disabled, pending deletion or
// gone.
func IsKMSRefusal(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	msg := api.ErrorMessage()
	return strings.HasPrefix(api.ErrorCode(), "KMS.") || strings.Contains(msg, "kms:") || strings.Contains(msg, "KMS")
}
