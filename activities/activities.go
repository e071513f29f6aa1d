// Package activities holds the Temporal activities of connect-ingest. Every
// activity can run more than once (Temporal retries, RabbitMQ redelivers), so
// each is idempotent: upserts keyed on business IDs, deterministic object
// keys, and a database mark that keeps analysis from being enqueued twice.
package activities

import (
	"context"
	"iter"
	"time"

	"github.com/minio/minio-go/v7"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/connectingest/connect-ingest/internal/awsx"
	"github.com/connectingest/connect-ingest/internal/ingest"
	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
)

// Publisher publishes messages and returns once the broker confirmed them.
type Publisher interface {
	PublishSeq(ctx context.Context, queue string, msgs iter.Seq[queue.Message]) error
}

// Activities holds the dependencies of every activity. It is registered once
// per worker; workflows call its methods through a nil *Activities.
type Activities struct {
	Tenants       *store.Tenants
	Conversations *store.Conversations
	CTRVersions   *store.CTRVersions
	Agents        *store.Agents
	Quarantine    *store.Quarantine
	Erasures      *store.Erasures
	// Reconciliations and Ingester serve the reconciliation: a contact
	// it recovers goes through the gateway's own path.
	Reconciliations *store.Reconciliations
	Ingester        *ingest.Ingester
	// ReconcileWindow and ReconcileDelay set the nightly run's window.
	ReconcileWindow time.Duration
	ReconcileDelay  time.Duration
	AWS             *awsx.Clients
	MinIO           *minio.Client
	Bucket          string
	Publisher       Publisher
	AnalysisQueue   string
	// Temporal and Namespace are where erasures stop conversation
	// workflows and delete their histories.
	Temporal  client.Client
	Namespace string
	// AMQP and DeadLetterQueue are where erasures remove a contact's
	// dead-lettered CTRs; with AMQP nil, nothing is looked for there.
	AMQP            *queue.Conn
	DeadLetterQueue string
	// Metrics may be nil.
	Metrics *Metrics
}

// Register registers every activity of a with r, by its method name, and
// each renamed activity under its old name too, so that runs which
// scheduled it before the rename still find it. (A function, not a
// method: every exported method of Activities is an activity.)
func Register(r worker.ActivityRegistry, a *Activities) {
	r.RegisterActivity(a)
	// A function of its own: the SDK names a function by the last name it
	// was registered under, and new runs must schedule NormalizeCTR.
	legacyFetchMetadata := func(ctx context.Context, in NormalizeCTRInput) (NormalizeCTRResult, error) {
		return a.NormalizeCTR(ctx, in)
	}
	r.RegisterActivityWithOptions(legacyFetchMetadata, activity.RegisterOptions{Name: LegacyNormalizeCTRName})
}
