package accesscheck

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/connectingest/connect-ingest/internal/firehose"
)

// Delivery sends a Firehose delivery of no records to endpoint with the
// tenant's access key, as Firehose's "test with demo data" would without
// the data: it proves the URL, the TLS certificate Firehose will see and
// the key, and stores nothing.
func Delivery(ctx context.Context, client *http.Client, endpoint, accessKey string) Result {
	r := Result{Check: "Firehose delivery to " + endpoint}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	reqID := hex.EncodeToString(id)
	body, _ := json.Marshal(map[string]any{"requestId": reqID, "timestamp": time.Now().UnixMilli(), "records": []any{}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		r.Status, r.Detail = Failed, err.Error()
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(firehose.HeaderRequestID, reqID)
	req.Header.Set(firehose.HeaderAccessKey, accessKey)
	resp, err := client.Do(req)
	if err != nil {
		r.Status, r.Detail = Failed, err.Error()
		return r
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var got struct {
		RequestID    string `json:"requestId"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(answer, &got)
	switch {
	case resp.StatusCode == http.StatusOK && got.RequestID == reqID:
		r.Status = OK
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		r.Status, r.Detail = Missing, fmt.Sprintf("%d: %s", resp.StatusCode, got.ErrorMessage)
		r.Fix = "configure the Firehose stream's HTTP endpoint access key as the tenant's key (ingestctl tenants rotate-key prints a new one)"
	default:
		r.Status, r.Detail = Failed, fmt.Sprintf("%d: %.200s", resp.StatusCode, answer)
	}
	return r
}
