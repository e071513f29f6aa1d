// Package firehose implements the Amazon Data Firehose HTTP endpoint delivery
// protocol, version 1.0: the request Firehose posts, and the response it
// expects back.
package firehose

import "bytes"

// Headers Firehose sets on every delivery.
const (
	HeaderRequestID        = "X-Amz-Firehose-Request-Id"
	HeaderAccessKey        = "X-Amz-Firehose-Access-Key"
	HeaderSourceARN        = "X-Amz-Firehose-Source-Arn"
	HeaderProtocolVersion  = "X-Amz-Firehose-Protocol-Version"
	HeaderCommonAttributes = "X-Amz-Firehose-Common-Attributes"
)

// Protocol limits, as Firehose documents them.
const (
	// MaxRecords is the most records one delivery carries.
	MaxRecords = 10_000
	// MaxRecordBytes is the largest record after base64 decoding.
	MaxRecordBytes = 1_024_000
	// MaxBodyBytes is the largest body before compression.
	MaxBodyBytes = 64 << 20
)

// Request is the JSON body of a delivery.
type Request struct {
	RequestID string   `json:"requestId"`
	Timestamp int64    `json:"timestamp"`
	Records   []Record `json:"records"`
	// buf, for a decoded request, holds the body the records are views
	// of (see Release).
	buf *bytes.Buffer
}

// Record is one delivered record; Data is base64 of the producer's bytes. It
// stays encoded here so that one bad record does not fail the whole batch.
type Record struct {
	Data string `json:"data"`
}

// Response is the JSON body Firehose expects back, on success and failure
// alike. Timestamp is milliseconds since the epoch.
type Response struct {
	RequestID    string `json:"requestId"`
	Timestamp    int64  `json:"timestamp"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}
