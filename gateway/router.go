package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/connectingest/connect-ingest/internal/health"
)

func init() {
	gin.SetMode(gin.ReleaseMode)
}

// newEngine returns a gin engine that never redirects: Firehose treats a
// redirect as a failed delivery, so a stray slash must be a plain 404.
func newEngine() *gin.Engine {
	e := gin.New()
	e.Use(gin.Recovery())
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	e.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, gin.H{"errorMessage": "no such route"})
	})
	e.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, gin.H{"errorMessage": "method not allowed"})
	})
	return e
}

// newRouter lists every route of the public listener: the Firehose endpoint,
// and health for the load balancer in front of it. Its readiness answer says
// ready or not ready, no more; why is on the admin listener.
func newRouter(fh *firehoseHandler, ready http.HandlerFunc) *gin.Engine {
	e := newEngine()
	e.POST("/firehose", fh.serve)
	e.GET("/healthz", gin.WrapF(health.Live))
	e.GET("/readyz", gin.WrapF(ready))
	return e
}

// newAdminRouter lists every route of the internal admin listener.
func newAdminRouter(m *gatewayMetrics, ready http.HandlerFunc) *gin.Engine {
	e := newEngine()
	e.GET("/healthz", gin.WrapF(health.Live))
	e.GET("/readyz", gin.WrapF(ready))
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})))
	return e
}
