// Package s3role puts the permissions of a tenant's cross-account IAM role in
// front of the S3 stand-in, so that the worker meets S3's answers to a
// least-privilege role: MinIO answers a missing object with 404 to any
// signed-in user, where S3 answers 403 unless the role may also list the
// bucket, and MinIO has no KMS key policies to leave a role out of.
//
// The front forwards each request unchanged, Host header included, so MinIO
// still checks its Signature Version 4; it only refuses, or rewrites the
// answer to, what the role's policy would have S3 refuse.
package s3role

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// KMSKeyMeta is the user metadata that marks an object as encrypted with a
// KMS key (SSE-KMS), since MinIO runs no KMS here: its value is the key's
// ARN. connectsim writes it when asked to encrypt.
const KMSKeyMeta = "X-Amz-Meta-Kms-Key-Id"

// RoleARN is the role the front plays, as S3 and KMS name it in refusals.
const RoleARN = "arn:aws:sts::111122223333:assumed-role/ConnectIngestRole/connect-ingest"

// Policy is what the role may do.
type Policy struct {
	// ListBucket grants s3:ListBucket. Without it, listings are refused
	// and a missing object is answered 403, not 404.
	ListBucket bool
	// DenyPrefixes are keys the role's s3:GetObject does not cover: S3
	// answers 403 whether or not the object exists.
	DenyPrefixes []string
	// KMSKeys are the keys whose key policy lets the role decrypt; an
	// object encrypted with any other is refused with AccessDenied.
	KMSKeys []string
}

// New returns the front for the S3 stand-in at upstream.
func New(upstream *url.URL, p Policy) http.Handler {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Host = pr.In.Host // signed by the client: MinIO checks it
		},
		ModifyResponse: func(resp *http.Response) error { return p.answer(resp) },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, key := split(r.URL.Path)
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			refuse(w, r.Method, "Access Denied") // the role only reads
		case bucket == "":
			refuse(w, r.Method, "Access Denied") // ListAllMyBuckets
		case key == "" && r.URL.Query().Has("location"):
			proxy.ServeHTTP(w, r) // GetBucketLocation, which clients ask first
		case key == "" && !p.ListBucket:
			refuse(w, r.Method, "Access Denied")
		case key != "" && slices.ContainsFunc(p.DenyPrefixes, func(pre string) bool { return strings.HasPrefix(key, pre) }):
			refuse(w, r.Method, "Access Denied")
		default:
			proxy.ServeHTTP(w, r)
		}
	})
}

// answer rewrites MinIO's answer to an object request into S3's.
func (p Policy) answer(resp *http.Response) error {
	_, key := split(resp.Request.URL.Path)
	if key == "" {
		return nil
	}
	if resp.StatusCode == http.StatusNotFound && !p.ListBucket {
		replace(resp, "Access Denied")
		return nil
	}
	kms := resp.Header.Get(KMSKeyMeta)
	if kms == "" || resp.StatusCode >= 300 {
		return nil
	}
	if !slices.Contains(p.KMSKeys, kms) {
		replace(resp, fmt.Sprintf("User: %s is not authorized to perform: kms:Decrypt on resource: %s "+
			"because no resource-based policy allows the kms:Decrypt action", RoleARN, kms))
		return nil
	}
	resp.Header.Set("X-Amz-Server-Side-Encryption", "aws:kms")
	resp.Header.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", kms)
	return nil
}

// split returns the bucket and key of a path-style request.
func split(path string) (string, string) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return bucket, key
}

func errorXML(msg string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>AccessDenied</Code><Message>")
	_ = xmlEscape(&b, msg)
	b.WriteString("</Message><RequestId>s3role</RequestId></Error>")
	return b.Bytes()
}

func xmlEscape(w io.Writer, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	_, err := r.WriteString(w, s)
	return err
}

func refuse(w http.ResponseWriter, method, msg string) {
	body := errorXML(msg)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusForbidden)
	if method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func replace(resp *http.Response, msg string) {
	_ = resp.Body.Close()
	body := errorXML(msg)
	if resp.Request.Method == http.MethodHead {
		body = nil
	}
	resp.StatusCode, resp.Status = http.StatusForbidden, "403 Forbidden"
	resp.Header = http.Header{"Content-Type": {"application/xml"}}
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.ContentLength = int64(len(body))
	resp.Body = io.NopCloser(bytes.NewReader(body))
}
