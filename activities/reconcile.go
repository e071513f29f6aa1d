package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"go.temporal.io/sdk/activity"

	"github.com/connectingest/connect-ingest/internal/store"
)

// contactsPerPage is SearchContacts' largest page.
const contactsPerPage = 100

// ReconcilePlanInput names the tenant whose nightly reconciliation starts.
type ReconcilePlanInput struct {
	TenantID string
}

// ReconcilePlanResult is the window the nightly run compares: contacts
// that ended in it.
type ReconcilePlanResult struct {
	From, To time.Time
}

// ReconcilePlan sets the nightly run's window from now: ReconcileWindow
// long, ending ReconcileDelay ago, on whole minutes.
func (a *Activities) ReconcilePlan(ctx context.Context, in ReconcilePlanInput) (ReconcilePlanResult, error) {
	to := time.Now().UTC().Add(-a.ReconcileDelay).Truncate(time.Minute)
	return ReconcilePlanResult{From: to.Add(-a.ReconcileWindow), To: to}, nil
}

// BeginReconciliationInput describes a run; RunID is its workflow ID.
type BeginReconciliationInput struct {
	TenantID string
	RunID    string
	Kind     string
	From, To time.Time
	DryRun   bool
}

// BeginReconciliationResult is empty.
type BeginReconciliationResult struct{}

// BeginReconciliation records the run, so that it shows in `ingestctl
// reconcile list` while it runs. It is idempotent.
func (a *Activities) BeginReconciliation(ctx context.Context, in BeginReconciliationInput) (BeginReconciliationResult, error) {
	if _, err := a.Tenants.Get(ctx, in.TenantID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return BeginReconciliationResult{}, permanent(ErrTypeTenantNotFound, err)
		}
		return BeginReconciliationResult{}, err
	}
	return BeginReconciliationResult{}, a.Reconciliations.Begin(ctx, store.Reconciliation{
		TenantID: in.TenantID, RunID: in.RunID, Kind: in.Kind, From: in.From, To: in.To, DryRun: in.DryRun,
	})
}

// ReconcilePageInput selects one page of the contacts that ended in the
// window. Before is what the run counted on its earlier pages.
type ReconcilePageInput struct {
	TenantID  string
	RunID     string
	From, To  time.Time
	NextToken string
	DryRun    bool
	Before    store.ReconcileCounts
}

// ReconcilePageResult counts the page; NextToken is empty on the last.
type ReconcilePageResult struct {
	Counts    store.ReconcileCounts
	NextToken string
}

// ReconcilePage lists one page of the tenant's contacts that ended in the
// window (SearchContacts), compares it with what connect-ingest holds, and
// recovers each contact it lacks (or, in a dry run, counts it): its CTR is
// rebuilt from DescribeContact and goes through the gateway's own path,
// marked reconciled, to its conversation workflow. A contact that cannot be
// rebuilt is recorded with the reason. Every Connect call waits on the
// tenant's rate limiter. A page attempted again recovers nothing twice: a
// contact this run recovered counts as recovered, one stored since as
// present.
func (a *Activities) ReconcilePage(ctx context.Context, in ReconcilePageInput) (ReconcilePageResult, error) {
	t, err := a.Tenants.Get(ctx, in.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return ReconcilePageResult{}, permanent(ErrTypeTenantNotFound, err)
	}
	if err != nil {
		return ReconcilePageResult{}, err
	}
	instanceID, err := InstanceID(t.InstanceARN)
	if err != nil {
		return ReconcilePageResult{}, permanent(ErrTypeTenantNotFound, err)
	}
	client, err := a.AWS.Connect(ctx, t)
	if err != nil {
		return ReconcilePageResult{}, err
	}
	search := &connect.SearchContactsInput{
		InstanceId: aws.String(instanceID), MaxResults: aws.Int32(contactsPerPage),
		TimeRange: &types.SearchContactsTimeRange{Type: types.SearchContactsTimeRangeTypeDisconnectTimestamp,
			StartTime: aws.Time(in.From), EndTime: aws.Time(in.To)},
	}
	if in.NextToken != "" {
		search.NextToken = aws.String(in.NextToken)
	}
	if err := a.AWS.Limiter(t.ID).Wait(ctx); err != nil {
		return ReconcilePageResult{}, err
	}
	page, err := client.SearchContacts(ctx, search)
	var unknown *types.ResourceNotFoundException
	if isClientError(err) || errors.As(err, &unknown) {
		err = fmt.Errorf("Amazon Connect refused SearchContacts for %s: %w", t.ID, err)
		if ferr := a.Reconciliations.Fail(ctx, t.ID, in.RunID, err.Error()); ferr != nil {
			return ReconcilePageResult{}, ferr
		}
		return ReconcilePageResult{}, permanent(ErrTypeConnectRefused, err)
	}
	if err != nil {
		return ReconcilePageResult{}, fmt.Errorf("search contacts of %s: %w", t.ID, err)
	}
	ids := make([]string, 0, len(page.Contacts))
	ended := map[string]*time.Time{}
	for _, c := range page.Contacts {
		ids = append(ids, aws.ToString(c.Id))
		ended[aws.ToString(c.Id)] = c.DisconnectTimestamp
	}
	known, err := a.Reconciliations.Known(ctx, t.ID, in.RunID, ids)
	if err != nil {
		return ReconcilePageResult{}, err
	}
	res := ReconcilePageResult{NextToken: aws.ToString(page.NextToken),
		Counts: store.ReconcileCounts{Seen: len(ids), Present: len(known.Present), Recovered: len(known.Recovered), Erased: len(known.Erased)}}
	recordings := a.newRecordingFinder(t)
	for _, id := range ids {
		if known.Present[id] || known.Recovered[id] || known.Erased[id] {
			continue
		}
		activity.RecordHeartbeat(ctx, id)
		mark := store.ReconciledContact{ContactID: id, Outcome: store.WouldRecover, DisconnectedAt: ended[id]}
		if !in.DryRun {
			// Marked first: an attempt that dies after ingesting the
			// contact leaves it recovering, and the page read again
			// recovers it again (the ingest is idempotent) rather than
			// counting it present.
			if !known.Recovering[id] {
				begun := store.ReconciledContact{ContactID: id, Outcome: store.Recovering, DisconnectedAt: ended[id]}
				if err := a.Reconciliations.Mark(ctx, t.ID, in.RunID, begun); err != nil {
					return ReconcilePageResult{}, err
				}
			}
			reason, err := a.recoverContact(ctx, t, instanceID, client, recordings, id)
			if err != nil {
				return ReconcilePageResult{}, err
			}
			mark.Outcome, mark.Reason = store.Recovered, reason
			if reason != "" {
				mark.Outcome = store.Unrecoverable
			}
		}
		if err := a.Reconciliations.Mark(ctx, t.ID, in.RunID, mark); err != nil {
			return ReconcilePageResult{}, err
		}
		if mark.Outcome == store.Unrecoverable {
			res.Counts.Unrecoverable++
		} else {
			res.Counts.Recovered++
		}
	}
	if err := a.Reconciliations.Update(ctx, t.ID, in.RunID, in.Before.Add(res.Counts), false); err != nil {
		return ReconcilePageResult{}, err
	}
	return res, nil
}

// FinishReconciliationInput closes a run with its totals.
type FinishReconciliationInput struct {
	TenantID string
	RunID    string
	From, To time.Time
	DryRun   bool
	Counts   store.ReconcileCounts
}

// FinishReconciliationResult is the run's totals, Analysed included, and
// the hours its stream was quiet.
type FinishReconciliationResult struct {
	Counts     store.ReconcileCounts
	QuietHours int
	QuietFrom  *time.Time
}

// quietMinimum is how many calls Connect must have had in an hour, all of
// them missing, for the hour to count as one the stream was quiet: fewer
// may be a quiet hour of the contact centre, not of its stream.
const quietMinimum = 3

// FinishReconciliation counts the window's conversations enqueued for
// analysis and the hours the tenant's stream was quiet, stores the totals,
// marks the run finished and publishes the tenant's completeness.
func (a *Activities) FinishReconciliation(ctx context.Context, in FinishReconciliationInput) (FinishReconciliationResult, error) {
	analysed, err := a.Reconciliations.Analysed(ctx, in.TenantID, in.From, in.To)
	if err != nil {
		return FinishReconciliationResult{}, err
	}
	c := in.Counts
	c.Analysed = analysed
	quiet, from, err := a.Reconciliations.QuietHours(ctx, in.TenantID, in.RunID, in.From, in.To, quietMinimum)
	if err != nil {
		return FinishReconciliationResult{}, err
	}
	if err := a.Reconciliations.Update(ctx, in.TenantID, in.RunID, c, true); err != nil {
		return FinishReconciliationResult{}, err
	}
	if !in.DryRun {
		a.Metrics.reconciled(in.TenantID, c, quiet)
	}
	return FinishReconciliationResult{Counts: c, QuietHours: quiet, QuietFrom: from}, nil
}
