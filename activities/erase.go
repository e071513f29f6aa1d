package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	amqp "github.com/rabbitmq/amqp091-go"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"

	"github.com/connectingest/connect-ingest/internal/queue"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
)

// StopConversationInput names the conversation workflow to stop before its
// contact is erased. The workflow passes its ID and the name of the signal
// that carries a cancel's reason, both of which belong to the workflows.
type StopConversationInput struct {
	WorkflowID   string
	ReasonSignal string
	// Reason is what the stopped conversation is marked cancelled with.
	Reason string
}

// StopConversationResult says whether a run was stopped.
type StopConversationResult struct {
	WasRunning bool
}

// stopPoll is how often StopConversation looks whether the cancelled run
// has closed.
const stopPoll = 500 * time.Millisecond

// StopConversation cancels the conversation's running workflow, as an
// operator's cancel does (an in-flight copy stops and its leftovers are
// removed), and returns once the run has closed. A workflow that is not
// running, or unknown to Temporal, is left alone.
func (a *Activities) StopConversation(ctx context.Context, in StopConversationInput) (StopConversationResult, error) {
	running, err := a.running(ctx, in.WorkflowID)
	if err != nil || !running {
		return StopConversationResult{}, err
	}
	err = a.Temporal.SignalWorkflow(ctx, in.WorkflowID, "", in.ReasonSignal, struct{ Reason string }{in.Reason})
	if err != nil && !temporalNotFound(err) {
		return StopConversationResult{}, fmt.Errorf("signal %s: %w", in.WorkflowID, err)
	}
	if err := a.Temporal.CancelWorkflow(ctx, in.WorkflowID, ""); err != nil && !temporalNotFound(err) {
		return StopConversationResult{}, fmt.Errorf("cancel %s: %w", in.WorkflowID, err)
	}
	for {
		activity.RecordHeartbeat(ctx)
		running, err := a.running(ctx, in.WorkflowID)
		if err != nil || !running {
			return StopConversationResult{WasRunning: true}, err
		}
		select {
		case <-ctx.Done():
			return StopConversationResult{}, ctx.Err()
		case <-time.After(stopPoll):
		}
	}
}

// running reports whether the workflow's current run is open.
func (a *Activities) running(ctx context.Context, workflowID string) (bool, error) {
	d, err := a.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	if temporalNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	return d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

func temporalNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// eraseOnRequest is the Kind of an erasure an operator asked for
// (workflows.EraseOnRequest).
const eraseOnRequest = "request"

// retractAll is the fingerprint of an erasure's retraction: it covers the
// whole conversation, whichever recordings it had.
const retractAll = "all"

// EraseConversationInput names the contact to erase and the conversation
// workflow whose histories go with it. Its tombstone must exist (see
// store.Erasures.Begin); Kind ("request", "retention" or "tenant_removal")
// labels the metric.
type EraseConversationInput struct {
	TenantID   string
	ContactID  string
	WorkflowID string
	Kind       string
}

// EraseConversationResult counts what was removed.
type EraseConversationResult struct {
	ObjectsRemoved   int
	Retracted        bool
	HistoriesDeleted int
	// DeadLetters counts the contact's CTR messages taken out of the
	// dead-letter queue.
	DeadLetters int
	Purged      store.Purged
}

// EraseConversation removes everything connect-ingest holds of a contact
// but its tombstone: the recording copies in MinIO (every version), the
// workflow histories in Temporal, its CTR messages in the dead-letter queue,
// and the conversation, its recordings, its CTR versions and its
// quarantined records in Postgres; it sends a retraction of the whole
// conversation when it had been enqueued for analysis, and marks the
// tombstone erased. The conversation's workflow must have been stopped
// (StopConversation). Each step is idempotent, and Postgres goes last, so
// that a retried attempt still finds what the earlier one left.
func (a *Activities) EraseConversation(ctx context.Context, in EraseConversationInput) (EraseConversationResult, error) {
	var res EraseConversationResult
	if _, err := a.Erasures.Get(ctx, in.TenantID, in.ContactID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return res, permanent(ErrTypeNotErasing, err)
		}
		return res, err
	}
	c, recs, err := a.Conversations.Get(ctx, in.TenantID, in.ContactID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return res, err
	}
	enqueued := err == nil && c.AnalysisEnqueuedAt != nil
	r := erasedRetraction(in.TenantID, in.ContactID)
	for _, rec := range recs {
		if rec.ObjectKey == "" {
			continue
		}
		if err := a.removeObject(ctx, rec); err != nil {
			return res, err
		}
		res.ObjectsRemoved++
		r.Recordings = append(r.Recordings, RetractedRecording{Bucket: rec.ObjectBucket, Key: rec.ObjectKey, Participant: rec.Participant})
	}
	if enqueued {
		if err := a.publishRetraction(ctx, r, retractAll); err != nil {
			return res, err
		}
		res.Retracted = true
	}
	if res.HistoriesDeleted, err = a.deleteHistories(ctx, in.WorkflowID); err != nil {
		return res, err
	}
	if in.Kind == "" || in.Kind == eraseOnRequest {
		// A retention run or a tenant's removal sweeps once a batch
		// (RemoveDeadLetters), not once a contact.
		if res.DeadLetters, err = a.removeDeadLetters(ctx, in.TenantID, []string{in.ContactID}, false); err != nil {
			return res, err
		}
	}
	if res.Purged, err = a.Erasures.Purge(ctx, in.TenantID, in.ContactID); err != nil {
		return res, err
	}
	if err := a.Erasures.Finish(ctx, in.TenantID, in.ContactID); err != nil {
		return res, err
	}
	a.Metrics.erased(in.Kind)
	return res, nil
}

// erasedRetraction is the retraction of an erased contact's whole
// conversation, before its recordings are named.
func erasedRetraction(tenantID, contactID string) Retraction {
	return Retraction{TenantID: tenantID, ContactID: contactID, Reason: RetractErased, WholeConversation: true,
		Recordings: []RetractedRecording{}, RetractedAt: time.Now().UTC()}
}

// retractErased tells the platform to drop everything of an erased
// contact: the retraction the contact's erasure sends, under the same
// message ID.
func (a *Activities) retractErased(ctx context.Context, tenantID, contactID string) error {
	return a.publishRetraction(ctx, erasedRetraction(tenantID, contactID), retractAll)
}

// RemoveDeadLettersInput names a tenant whose erased contacts' CTRs leave
// the dead-letter queue; ContactIDs are those just erased, whose messages
// are also looked for by their bytes. With WholeTenant, every message of
// the tenant goes.
type RemoveDeadLettersInput struct {
	TenantID    string
	ContactIDs  []string
	WholeTenant bool
}

// RemoveDeadLettersResult counts the messages removed.
type RemoveDeadLettersResult struct {
	Removed int
}

// RemoveDeadLetters takes erased contacts' CTRs out of the dead-letter
// queue in one pass: a retention run calls it once a batch, a tenant's
// removal once for the whole tenant at its end (see removeDeadLetters).
func (a *Activities) RemoveDeadLetters(ctx context.Context, in RemoveDeadLettersInput) (RemoveDeadLettersResult, error) {
	n, err := a.removeDeadLetters(ctx, in.TenantID, in.ContactIDs, in.WholeTenant)
	return RemoveDeadLettersResult{Removed: n}, err
}

// removeDeadLetters takes erased contacts' CTR messages out of the
// dead-letter queue: every message of the tenant whose ID names a contact
// with a tombstone (every envelope's ID names its contact), so that a sweep
// also takes what an earlier, failed one left; and those whose bytes name
// one of contactIDs (a contact ID is a UUID, as the quarantine's purge also
// relies on). With wholeTenant, every message of the tenant goes. Sweeps
// take turns across the deployment: a message one sweep holds is invisible
// to another, which would miss it.
func (a *Activities) removeDeadLetters(ctx context.Context, tenantID string, contactIDs []string, wholeTenant bool) (int, error) {
	if a.AMQP == nil || a.DeadLetterQueue == "" {
		return 0, nil
	}
	var checkErr error
	match := func(d amqp.Delivery) bool {
		rest, ok := strings.CutPrefix(d.MessageId, tenantID+"/")
		if !ok {
			return false
		}
		if wholeTenant {
			return true
		}
		for _, c := range contactIDs {
			if bytes.Contains(d.Body, []byte(c)) {
				return true
			}
		}
		contact, _, ok := strings.Cut(rest, "/")
		if !ok || checkErr != nil {
			return false
		}
		err := a.Erasures.Check(ctx, tenantID, contact)
		if err != nil && !store.IsErased(err) {
			checkErr = err
		}
		return store.IsErased(err)
	}
	var n int
	err := a.Erasures.Exclusively(ctx, "dead-letters/"+a.DeadLetterQueue, func() error {
		var err error
		n, err = queue.Remove(ctx, a.AMQP, a.DeadLetterQueue, match)
		return errors.Join(err, checkErr)
	})
	if err != nil {
		return n, fmt.Errorf("remove %s's erased contacts from the dead-letter queue: %w", tenantID, err)
	}
	return n, nil
}

// deleteHistories deletes every run of the workflow that Temporal's
// visibility lists; the server removes them in the background. A run still
// open is terminated first by the server.
func (a *Activities) deleteHistories(ctx context.Context, workflowID string) (int, error) {
	deleted := 0
	var token []byte
	for {
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: a.Namespace, Query: fmt.Sprintf("WorkflowId = %q", workflowID), NextPageToken: token, PageSize: 100,
		})
		if err != nil {
			return deleted, fmt.Errorf("list the runs of %s: %w", workflowID, err)
		}
		for _, e := range resp.GetExecutions() {
			_, err := a.Temporal.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
				Namespace:         a.Namespace,
				WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: e.GetExecution().GetRunId()},
			})
			if err != nil && !temporalNotFound(err) {
				return deleted, fmt.Errorf("delete run %s of %s: %w", e.GetExecution().GetRunId(), workflowID, err)
			}
			deleted++
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return deleted, nil
		}
	}
}

// RemoveTenantObjectsInput names a removed tenant whose objects go.
type RemoveTenantObjectsInput struct {
	TenantID string
}

// RemoveTenantObjectsResult counts the object versions removed.
type RemoveTenantObjectsResult struct {
	Removed int
}

// RemoveTenantObjects removes every object version (and delete marker)
// under the tenant's prefix in MinIO: what its erasures left of it, such as
// the copy of a contact that no row named. It runs at the end of a tenant's
// removal, heartbeating its count, and is idempotent: a retried attempt
// lists what is left.
func (a *Activities) RemoveTenantObjects(ctx context.Context, in RemoveTenantObjectsInput) (RemoveTenantObjectsResult, error) {
	if !tenant.ValidID(in.TenantID) {
		return RemoveTenantObjectsResult{}, permanent(ErrTypeTenantNotFound, fmt.Errorf("%.80q is not a tenant ID", in.TenantID))
	}
	var res RemoveTenantObjectsResult
	var listErr error
	objects := make(chan minio.ObjectInfo)
	listed := make(chan struct{})
	go func() {
		defer close(listed)
		defer close(objects)
		for o := range a.MinIO.ListObjects(ctx, a.Bucket, minio.ListObjectsOptions{Prefix: in.TenantID + "/", Recursive: true, WithVersions: true}) {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			res.Removed++
			if res.Removed%1000 == 0 {
				activity.RecordHeartbeat(ctx, res.Removed)
			}
			select {
			case objects <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	var removeErr error
	for e := range a.MinIO.RemoveObjects(ctx, a.Bucket, objects, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && removeErr == nil {
			removeErr = fmt.Errorf("remove %s/%s: %w", a.Bucket, e.ObjectName, e.Err)
		}
	}
	// RemoveObjects reads objects to its end unless the attempt is
	// cancelled, when the listing stops at its next object: either way it
	// ends, and its count is read only after.
	<-listed
	if listErr != nil {
		return res, fmt.Errorf("list %s/%s/: %w", a.Bucket, in.TenantID, listErr)
	}
	return res, removeErr
}
