package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/connectingest/connect-ingest/internal/firehose"
	"github.com/connectingest/connect-ingest/internal/ingest"
)

// firehoseHandler answers Firehose HTTP endpoint deliveries. The order of
// checks is deliberate: the access key before the body is read, so that an
// unauthenticated sender costs no body parsing; then the body, bounded
// before and after decompression; then the durable hand-off, and only then
// 200. Anything transient is 503 so that Firehose retries; nothing is ever
// 413, which Firehose would drop without backing it up.
type firehoseHandler struct {
	auth            *authenticator
	inFlight        *inFlight
	ingester        *ingest.Ingester
	metrics         *gatewayMetrics
	log             *slog.Logger
	maxBodyBytes    int64
	maxDecodedBytes int64
	confirmTimeout  time.Duration
}

func (h *firehoseHandler) serve(c *gin.Context) {
	requestID := c.GetHeader(firehose.HeaderRequestID)
	if requestID != "" {
		if err := firehose.CheckRequestID(requestID); err != nil {
			// Neither echoed nor logged: it is the sender's, and unbounded.
			h.answer(c, h.log, http.StatusBadRequest, "", firehose.HeaderRequestID+": "+err.Error())
			return
		}
	}
	log := h.log.With("firehose_request_id", requestID)

	tenant, err := h.auth.authenticate(c.Request.Context(), c.GetHeader(firehose.HeaderAccessKey))
	switch {
	case errors.Is(err, errUnauthorized):
		h.answer(c, log, http.StatusUnauthorized, requestID, "missing or invalid access key")
		return
	case err != nil:
		log.Error("access key lookup failed", "error", err)
		h.answer(c, log, http.StatusServiceUnavailable, requestID, "tenant lookup unavailable, retry later")
		return
	}
	log = log.With("tenant_id", tenant.ID)
	release, busy := h.inFlight.acquire(tenant.ID)
	if release == nil {
		h.metrics.busy.WithLabelValues(busy).Inc()
		msg := "too many of this tenant's batches in flight, retry later"
		if busy == busyGateway {
			msg = "gateway busy, retry later"
		}
		h.answer(c, log, http.StatusServiceUnavailable, requestID, msg)
		return
	}
	defer release()

	body := http.MaxBytesReader(c.Writer, c.Request.Body, h.maxBodyBytes)
	r, err := firehose.OpenBody(body, c.GetHeader("Content-Encoding"), h.maxDecodedBytes)
	if err != nil {
		h.answer(c, log, http.StatusBadRequest, requestID, err.Error())
		return
	}
	// For a plain body Content-Length is the decoded size; a gzip body
	// grows its buffer as it decompresses.
	hint := c.Request.ContentLength
	if c.GetHeader("Content-Encoding") != "" {
		hint = 0
	}
	req, err := firehose.DecodeRequest(r, hint)
	defer req.Release()
	if err != nil {
		h.answer(c, log, http.StatusBadRequest, requestID, h.bodyError(err))
		return
	}
	if requestID == "" {
		requestID = req.RequestID
	} else if req.RequestID != requestID {
		h.answer(c, log, http.StatusBadRequest, requestID,
			fmt.Sprintf("body requestId %.100q differs from the %s header", req.RequestID, firehose.HeaderRequestID))
		return
	}
	h.metrics.batchSize.Observe(float64(len(req.Records)))

	ctx, cancel := context.WithTimeout(c.Request.Context(), h.confirmTimeout)
	defer cancel()
	start := time.Now()
	res, err := h.ingester.Ingest(ctx, ingest.Batch{Tenant: tenant, RequestID: requestID, Records: req.Records})
	if err != nil {
		log.Warn("batch not accepted", "records", len(req.Records), "error", err)
		h.answer(c, log, http.StatusServiceUnavailable, requestID, "records not durably accepted, retry later")
		return
	}
	h.metrics.ingestTime.Observe(time.Since(start).Seconds())
	h.metrics.published.Add(float64(res.Published))
	for reason, n := range res.Quarantined {
		h.metrics.quarantined.WithLabelValues(string(reason)).Add(float64(n))
	}
	for typ, n := range res.AgentEvents {
		h.metrics.agentEvents.WithLabelValues(tenant.ID, typ).Add(float64(n))
	}
	if n := res.QuarantinedTotal(); n > 0 {
		log.Warn("records quarantined", "quarantined", n, "reasons", res.Quarantined)
	}
	if res.OverQuota > 0 {
		h.metrics.overQuota.WithLabelValues(tenant.ID).Add(float64(res.OverQuota))
		log.Warn("the tenant's quarantine quota is reached: records kept without their bytes", "records", res.OverQuota)
	}
	log.Info("batch accepted", "records", len(req.Records), "published", res.Published, "agent_events", len(req.Records)-res.Published-res.QuarantinedTotal())
	h.answer(c, log, http.StatusOK, requestID, "")
}

// bodyError explains a body that could not be decoded.
func (h *firehoseHandler) bodyError(err error) string {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fmt.Sprintf("request body exceeds %d bytes", h.maxBodyBytes)
	case errors.Is(err, firehose.ErrTooLarge):
		return fmt.Sprintf("decompressed request body exceeds %d bytes", h.maxDecodedBytes)
	default:
		return err.Error()
	}
}

// answer writes the response Firehose expects: JSON, uncompressed, with the
// request's ID and a millisecond timestamp, and an errorMessage on failure.
func (h *firehoseHandler) answer(c *gin.Context, log *slog.Logger, status int, requestID, errMsg string) {
	if status != http.StatusOK {
		log.Info("firehose request refused", "status", status, "error", errMsg)
	}
	h.metrics.requests.WithLabelValues(strconv.Itoa(status)).Inc()
	c.JSON(status, firehose.Response{RequestID: requestID, Timestamp: time.Now().UnixMilli(), ErrorMessage: errMsg})
}
