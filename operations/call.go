package operations

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/connectingest/connect-ingest/internal/config"
	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/internal/ctr"
	"github.com/connectingest/connect-ingest/internal/store"
	"github.com/connectingest/connect-ingest/internal/tenant"
	"github.com/connectingest/connect-ingest/workflows"
)

// Service finds, retries and cancels conversations.
type Service struct {
	Temporal      client.Client
	Namespace     string
	Conversations *store.Conversations
	// CTRVersions is the claim-check store a restarted run reads.
	CTRVersions *store.CTRVersions
	// Erasures holds the tombstones of erased contacts.
	Erasures *store.Erasures
	// TaskQueue and WaitWindow configure the runs a retry starts.
	TaskQueue  string
	WaitWindow time.Duration
	// InlineCopyMaxBytes bounds the recordings those runs copy inline.
	InlineCopyMaxBytes int64
	// StuckAfter and StuckAttempts say when a running conversation is
	// stuck: running longer than StuckAfter, or an activity on its
	// StuckAttempts-th attempt or later.
	StuckAfter    time.Duration
	StuckAttempts int32
	// Links builds the Temporal UI links of views.
	Links Links
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewService returns the service as configured for the worker and
// ingestctl alike. tc and the stores may be nil for a caller that only
// views calls.
func NewService(tc client.Client, convs *store.Conversations, versions *store.CTRVersions, erasures *store.Erasures, cfg config.Config) *Service {
	w := cfg.Worker
	return &Service{
		Temporal: tc, Namespace: cfg.Namespace, Conversations: convs, CTRVersions: versions, Erasures: erasures, TaskQueue: cfg.TaskQueue,
		WaitWindow: w.RecordingWaitWindow, InlineCopyMaxBytes: w.InlineCopyMaxBytes, StuckAfter: w.StuckAfter, StuckAttempts: int32(w.StuckAttempts),
		Links: Links{TemporalUI: cfg.TemporalUI, Namespace: cfg.Namespace},
	}
}

// Call is one conversation as an operator sees it: its row in Postgres and
// its workflow in Temporal. Either may be missing: a workflow that failed
// before storing the CTR has no row, and a row outlives its workflow's
// retention.
type Call struct {
	TenantID     string
	ContactID    string
	Conversation *store.Conversation
	Recordings   []store.Recording
	Workflow     *Workflow
	// Erasure is the contact's tombstone once its erasure has begun.
	Erasure *store.Erasure
}

// Workflow is the latest run of a conversation's workflow.
type Workflow struct {
	ID    string
	RunID string
	// Status is Temporal's name for the run's status, as its enum and UI print
	// it: Running, Completed, Failed, Canceled, Terminated, TimedOut,
	// ContinuedAsNew.
	Status    string
	StartTime time.Time
	CloseTime *time.Time
	// Pending lists the activities of a running workflow.
	Pending []PendingActivity
	// LastFailure is why a closed run failed, or the newest failure of a
	// pending activity of a running one.
	LastFailure string
}

// PendingActivity is an activity a running workflow waits for.
type PendingActivity struct {
	ActivityID string
	Type       string
	// State is Temporal's name for the activity's state: Scheduled,
	// Started, CancelRequested, Paused.
	State       string
	Attempt     int32
	LastFailure string
	NextAttempt *time.Time
}

// Trouble returns the pending activity with the most attempts: the one an
// operator looks at first.
func (w *Workflow) Trouble() *PendingActivity {
	var worst *PendingActivity
	for i := range w.Pending {
		if worst == nil || w.Pending[i].Attempt > worst.Attempt {
			worst = &w.Pending[i]
		}
	}
	return worst
}

// State is the conversation's state: Postgres's when it has a row, else
// what its workflow's status implies. A run that completed without a row
// rejected a malformed CTR.
func (c Call) State() conversation.State {
	if c.Erasure != nil && c.Conversation == nil {
		return conversation.Erased
	}
	if c.Conversation != nil {
		return c.Conversation.State
	}
	switch {
	case c.Workflow == nil || c.Workflow.Status == "Running":
		return conversation.Received
	case c.Workflow.Status == "Completed":
		return conversation.Rejected
	case c.Workflow.Status == "Canceled":
		return conversation.Cancelled
	}
	return conversation.Failed
}

// Age is how long ago the conversation's workflow started (or its row was
// created, when Temporal no longer has the run).
func (c Call) Age(now time.Time) time.Duration {
	switch {
	case c.Workflow != nil:
		return now.Sub(c.Workflow.StartTime)
	case c.Conversation != nil:
		return now.Sub(c.Conversation.CreatedAt)
	}
	return 0
}

// ErrNotFound is returned for a conversation neither Postgres nor Temporal
// knows.
var ErrNotFound = errors.New("no such conversation")

// ErrErased is returned for an act on a contact that was erased (or whose
// erasure has begun): it is never retried, cancelled or ingested again.
var ErrErased = errors.New("erased")

// refuseErased returns ErrErased, with when and why, for a call whose
// contact has a tombstone.
func refuseErased(c Call) error {
	if c.Erasure == nil {
		return nil
	}
	return fmt.Errorf("%s/%s was erased (requested %s by %s): %w", c.TenantID, c.ContactID,
		c.Erasure.RequestedAt.UTC().Format(time.RFC3339), c.Erasure.RequestedBy, ErrErased)
}

// ErrInvalid marks a request that is malformed: a tenant or contact ID that
// is not one, an unknown state, a limit out of range.
var ErrInvalid = errors.New("invalid request")

// checkIDs refuses IDs that no conversation can have.
func checkIDs(tenantID, contactID string) error {
	if !tenant.ValidID(tenantID) {
		return fmt.Errorf("%w: %.80q is not a tenant ID", ErrInvalid, tenantID)
	}
	if !ctr.ValidContactID(contactID) {
		return fmt.Errorf("%w: %.80q is not an Amazon Connect contact ID", ErrInvalid, contactID)
	}
	return nil
}

func (s *Service) namespace() string {
	if s.Namespace == "" {
		return "default"
	}
	return s.Namespace
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Get returns one conversation with its workflow's status.
func (s *Service) Get(ctx context.Context, tenantID, contactID string) (Call, error) {
	if err := checkIDs(tenantID, contactID); err != nil {
		return Call{}, err
	}
	w, err := s.describe(ctx, workflows.ConversationWorkflowID(tenantID, contactID))
	if err != nil {
		return Call{}, err
	}
	call, err := s.withRow(ctx, Call{TenantID: tenantID, ContactID: contactID, Workflow: w})
	if err == nil && call.Conversation == nil && call.Workflow == nil && call.Erasure == nil {
		err = fmt.Errorf("conversation %s/%s: %w", tenantID, contactID, ErrNotFound)
	}
	return call, err
}

// withRow adds the call's row and recordings from Postgres, where it has
// them.
func (s *Service) withRow(ctx context.Context, call Call) (Call, error) {
	conv, recs, err := s.Conversations.Get(ctx, call.TenantID, call.ContactID)
	switch {
	case err == nil:
		call.Conversation, call.Recordings = &conv, recs
	case !errors.Is(err, store.ErrNotFound):
		return Call{}, err
	}
	if s.Erasures == nil {
		return call, nil
	}
	e, err := s.Erasures.Get(ctx, call.TenantID, call.ContactID)
	switch {
	case err == nil:
		call.Erasure = &e
	case !errors.Is(err, store.ErrNotFound):
		return Call{}, err
	}
	return call, nil
}

// describe reads the latest run of a workflow; nil when Temporal has none.
func (s *Service) describe(ctx context.Context, id string) (*Workflow, error) {
	d, err := s.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe workflow %s: %w", id, err)
	}
	info := d.GetWorkflowExecutionInfo()
	w := &Workflow{
		ID: id, RunID: info.GetExecution().GetRunId(), Status: info.GetStatus().String(),
		StartTime: info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		t := info.GetCloseTime().AsTime()
		w.CloseTime = &t
	}
	for _, p := range d.GetPendingActivities() {
		pa := PendingActivity{
			ActivityID: p.GetActivityId(), Type: p.GetActivityType().GetName(), State: p.GetState().String(),
			Attempt: p.GetAttempt(), LastFailure: p.GetLastFailure().GetMessage(),
		}
		if p.GetNextAttemptScheduleTime() != nil {
			t := p.GetNextAttemptScheduleTime().AsTime()
			pa.NextAttempt = &t
		}
		if pa.LastFailure != "" {
			w.LastFailure = pa.LastFailure
		}
		w.Pending = append(w.Pending, pa)
	}
	if isFailure(info.GetStatus()) {
		w.LastFailure, err = s.closeFailure(ctx, id, w.RunID)
		if err != nil {
			return nil, err
		}
	}
	return w, nil
}

// closeFailure reads why a closed run failed from its closing event.
func (s *Service) closeFailure(ctx context.Context, id, runID string) (string, error) {
	it := s.Temporal.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return "", fmt.Errorf("history of %s: %w", id, err)
		}
		switch {
		case ev.GetWorkflowExecutionFailedEventAttributes() != nil:
			return ev.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetMessage(), nil
		case ev.GetWorkflowExecutionTerminatedEventAttributes() != nil:
			return "terminated: " + ev.GetWorkflowExecutionTerminatedEventAttributes().GetReason(), nil
		case ev.GetWorkflowExecutionTimedOutEventAttributes() != nil:
			return "timed out", nil
		}
	}
	return "", nil
}

func isFailure(s enumspb.WorkflowExecutionStatus) bool {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return true
	}
	return false
}
