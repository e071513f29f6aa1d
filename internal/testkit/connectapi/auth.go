package connectapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The stand-in's own key, as the S3 stand-in has one: the worker signs with
// S3_STANDIN_ACCESS_KEY and S3_STANDIN_SECRET_KEY, whose defaults these are.
const (
	DefaultAccessKey = "connectsim"
	DefaultSecretKey = "connectsim-secret"
)

// maxSkew is how far a request's signing time may be from now, as AWS
// allows.
const maxSkew = 15 * time.Minute

// WithCredentials makes the stand-in accept requests signed with this key
// only (DefaultAccessKey and DefaultSecretKey until called).
func (s *Server) WithCredentials(accessKey, secretKey string) *Server {
	s.accessKey, s.secretKey = accessKey, secretKey
	return s
}

// authenticate checks a request's Signature Version 4 as AWS does, and
// answers 403 with AWS's error codes when it fails: no signature, an
// unknown key, a signature that does not match, or a stale signing time.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, msg := s.verify(r); code != "" {
			s.Refused.Add(1)
			apiError(w, http.StatusForbidden, code, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) verify(r *http.Request) (string, string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "MissingAuthenticationTokenException", "Missing Authentication Token"
	}
	fields := map[string]string{}
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "IncompleteSignatureException", "Authorization header requires the AWS4-HMAC-SHA256 scheme"
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return "IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature"
	}
	if scope[0] != s.accessKey {
		return "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "IncompleteSignatureException", "X-Amz-Date is missing or malformed"
	}
	if d := time.Since(at); d > maxSkew || d < -maxSkew {
		return "InvalidSignatureException", "Signature expired: the signing time is more than 15 minutes from now"
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return "InvalidSignatureException", "the request body could not be read"
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)

	// Sign a copy holding only the headers the client signed, and compare.
	clone, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return "InvalidSignatureException", "the request could not be rebuilt"
	}
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		switch h {
		case "host":
		case "content-length":
			clone.ContentLength = int64(len(body))
		default:
			for _, v := range r.Header.Values(h) {
				clone.Header.Add(h, v)
			}
		}
	}
	creds := aws.Credentials{AccessKeyID: s.accessKey, SecretAccessKey: s.secretKey}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, clone, hex.EncodeToString(sum[:]), scope[3], scope[2], at); err != nil {
		return "InvalidSignatureException", "the request could not be signed"
	}
	_, want, _ := strings.Cut(clone.Header.Get("Authorization"), "Signature=")
	if want != fields["Signature"] {
		return "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
	}
	return "", ""
}
