package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/operations"
)

// confirmAbove is the number of calls above which a bulk action asks first.
const confirmAbove = 10

// bulk is how retry and cancel choose their calls: one by TENANT
// CONTACT_ID, or every call a filter selects.
type bulk struct {
	filter operations.Filter
	dryRun bool
	yes    bool
	// erasing selects from the calls Postgres holds (operations.FindStored)
	// rather than from Temporal's visibility store, and takes a contact
	// that has not arrived yet: it gets a tombstone.
	erasing bool
}

func (b *bulk) flags(cmd *cobra.Command) {
	filterFlags(cmd, &b.filter)
	cmd.Flags().BoolVar(&b.dryRun, "dry-run", false, "list the calls the filter selects, and do nothing")
	cmd.Flags().BoolVar(&b.yes, "yes", false, fmt.Sprintf("do not ask before acting on more than %d calls", confirmAbove))
}

func (b *bulk) isFiltered() bool {
	f := b.filter
	return f.TenantID != "" || f.State != "" || f.OlderThan > 0 || f.Stuck || f.Failed
}

// run applies act to the one call named by args, or to every call the
// filter selects, with a progress bar; it reports each failure and fails
// if any did.
func (a *app) runBulk(ctx context.Context, b *bulk, args []string, verb string, act func(*operations.Service, operations.Call) (string, error)) error {
	svc, err := a.callService(ctx)
	if err != nil {
		return err
	}
	var targets []operations.Call
	switch {
	case len(args) == 2:
		if b.isFiltered() {
			return fmt.Errorf("give either TENANT CONTACT_ID or a filter, not both")
		}
		c, err := svc.Get(ctx, args[0], args[1])
		if errors.Is(err, operations.ErrNotFound) && b.erasing {
			c, err = operations.Call{TenantID: args[0], ContactID: args[1]}, nil
		}
		if err != nil {
			return err
		}
		targets = []operations.Call{c}
	case len(args) == 0 && b.isFiltered():
		find := svc.Find
		if b.erasing {
			find = svc.FindStored
		}
		if targets, err = find(ctx, b.filter); err != nil {
			return err
		}
	default:
		return fmt.Errorf("give TENANT CONTACT_ID, or a filter (--tenant, --state, --older-than, --stuck, --failed)")
	}
	if b.dryRun || len(args) == 0 {
		if err := a.printCalls(svc, targets); err != nil {
			return err
		}
	}
	if b.dryRun {
		fmt.Fprintf(a.stdout, "dry run: would %s %d calls\n", verb, len(targets))
		return nil
	}
	if len(targets) > confirmAbove && !b.yes && !a.confirm(fmt.Sprintf("%s these %d calls?", verb, len(targets))) {
		return fmt.Errorf("not confirmed; nothing done (--yes skips the question)")
	}
	bar := progressbar.NewOptions(len(targets), progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription(verb),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	var failed []error
	for _, c := range targets {
		what, err := act(svc, c)
		a.noteCall(c.TenantID+"/"+c.ContactID, "")
		if err != nil {
			failed = append(failed, fmt.Errorf("%s/%s: %w", c.TenantID, c.ContactID, err))
		} else {
			fmt.Fprintf(a.stdout, "%s/%s: %s\n", c.TenantID, c.ContactID, what)
		}
		_ = bar.Add(1)
	}
	_ = bar.Finish()
	fmt.Fprintf(a.stdout, "%s: %d done, %d failed\n", verb, len(targets)-len(failed), len(failed))
	a.noteCall("", fmt.Sprintf("%d matched, %d failed", len(targets), len(failed)))
	return errors.Join(failed...)
}

// confirm asks a yes/no question on the terminal; anything but y or yes is
// no, and so is a closed input.
func (a *app) confirm(question string) bool {
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(a.stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

func (a *app) callsRetryCmd() *cobra.Command {
	var b bulk
	cmd := &cobra.Command{
		Use:   "retry [TENANT CONTACT_ID]",
		Short: "Retry a call now, or every call a filter selects",
		Long: "Retry a call now. A running call waiting for its recording looks again at once, and its activities\n" +
			"waiting between attempts retry at once. A failed, timed-out, terminated or cancelled call, or one that\n" +
			"ended recording_missing or rejected, runs again from what is already done: copied recordings and stored\n" +
			"rows are reused and nothing is enqueued twice. A call enqueued or without audio has nothing to retry.",
		Args: cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runBulk(cmd.Context(), &b, args, "retry", func(svc *operations.Service, c operations.Call) (string, error) {
				res, err := svc.Retry(cmd.Context(), c.TenantID, c.ContactID)
				if err != nil {
					return "", err
				}
				if res.Action == "woken" {
					return fmt.Sprintf("woken (%d waiting activities retried now)", res.ActivitiesReset), nil
				}
				return "restarted as run " + res.RunID, nil
			})
		},
	}
	b.flags(cmd)
	return cmd
}

func (a *app) callsCancelCmd() *cobra.Command {
	var b bulk
	var reason string
	var wait bool
	cmd := &cobra.Command{
		Use:   "cancel [TENANT CONTACT_ID] --reason TEXT",
		Short: "Cancel a running call gracefully, or every call a filter selects",
		Long: "Cancel a running call: its workflow is cancelled, an in-flight copy stops and what it left in MinIO is\n" +
			"removed, and the conversation is marked cancelled with the reason and never enqueued.",
		Args: cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return fmt.Errorf("--reason is required: it is kept with the conversation")
			}
			return a.runBulk(cmd.Context(), &b, args, "cancel", func(svc *operations.Service, c operations.Call) (string, error) {
				res, err := svc.Cancel(cmd.Context(), c.TenantID, c.ContactID, reason)
				if err != nil {
					return "", err
				}
				if !wait {
					return "cancel requested", nil
				}
				if err := svc.Wait(cmd.Context(), res); err != nil {
					return "", err
				}
				return "cancelled", nil
			})
		},
	}
	b.flags(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (required; kept as the conversation's state detail)")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until each workflow has stopped and cleaned up")
	return cmd
}
