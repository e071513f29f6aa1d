package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connectingest/connect-ingest/operations"
)

func (a *app) callsEraseCmd() *cobra.Command {
	b := bulk{erasing: true}
	var reason string
	var wait bool
	cmd := &cobra.Command{
		Use:   "erase [TENANT CONTACT_ID] --reason TEXT",
		Short: "Erase a call, or every call a filter selects: its recordings, rows, CTRs and workflow histories",
		Long: "Erase a call, in any state. A running call is cancelled first. Its recording copies (every version) are\n" +
			"removed from MinIO, its conversation, recordings, CTR versions and quarantined records from Postgres, its CTRs\n" +
			"from the dead-letter queue, and its workflow histories from Temporal; the platform is sent a retraction when\n" +
			"the call had been enqueued for analysis. Only a tombstone is kept (tenant, contact, when, why, who): from then\n" +
			"on a CTR of the contact is refused, and so is any write of it, whatever is in flight. A contact that has not\n" +
			"arrived yet gets its tombstone all the same. A filter selects from the calls Postgres holds, so a call whose\n" +
			"workflow history has passed Temporal's retention is erased too (--stuck and --failed, which only a run can\n" +
			"tell, are refused). Erasing again is harmless.",
		Args: cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return fmt.Errorf("--reason is required: it is kept on the tombstone")
			}
			by := actor()
			return a.runBulk(cmd.Context(), &b, args, "erase", func(svc *operations.Service, c operations.Call) (string, error) {
				run, err := svc.Erase(cmd.Context(), c.TenantID, c.ContactID, reason, by)
				if err != nil {
					return "", err
				}
				if !wait {
					return "erasure started (" + run.WorkflowID + ")", nil
				}
				res, err := svc.WaitErased(cmd.Context(), run)
				if err != nil {
					return "", err
				}
				if !run.Held {
					return "nothing held of it yet: tombstone written, its CTRs will be refused", nil
				}
				what := fmt.Sprintf("erased: %d recordings removed, %d rows deleted, %d workflow histories deleted", res.ObjectsRemoved,
					res.RowsDeleted, res.HistoriesDeleted)
				if res.WasRunning {
					what += ", its running workflow cancelled first"
				}
				if res.Retracted {
					what += ", analysis retracted"
				}
				if res.DeadLetters > 0 {
					what += fmt.Sprintf(", %d dead-lettered CTRs removed", res.DeadLetters)
				}
				return what, nil
			})
		},
	}
	b.flags(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (required; kept on the tombstone)")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until each erasure has finished")
	return cmd
}
