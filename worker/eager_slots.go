package main

import (
	"fmt"
	"sync/atomic"

	"go.temporal.io/sdk/worker"
)

// eagerSlots is the worker's workflow task slot supplier: the SDK's
// default slots, of which at most bound at a time go to tasks handed over
// eagerly, in the answer to the consumer's own start (see
// workflows.Deliver). Tasks polled from the task queue reserve their slots
// with ReserveSlot, as ever; an eager start asks with TryReserveSlot, which
// the SDK calls for nothing else on workflow tasks.
//
// The bound is what keeps eager starts fair. An eagerly started task skips
// the task queue, where tenants are served in turn, and runs beside the
// tasks already in the worker. Unbounded, one tenant's burst would be
// started eagerly whole and every other tenant's call would share the
// worker with all of it; bounded, the rest of a burst waits in the task
// queue like any other task.
type eagerSlots struct {
	worker.SlotSupplier
	bound    int64
	inFlight atomic.Int64
}

// eagerPermit marks the permits of eager starts.
type eagerPermit struct{}

// TryReserveSlot reserves a slot for an eager start while fewer than bound
// are in flight.
func (s *eagerSlots) TryReserveSlot(info worker.SlotReservationInfo) *worker.SlotPermit {
	if s.inFlight.Add(1) > s.bound {
		s.inFlight.Add(-1)
		return nil
	}
	p := s.SlotSupplier.TryReserveSlot(info)
	if p == nil {
		s.inFlight.Add(-1)
		return nil
	}
	p.UserData = eagerPermit{}
	return p
}

// ReleaseSlot releases a slot, counting an eager start's as ended.
func (s *eagerSlots) ReleaseSlot(info worker.SlotReleaseInfo) {
	if _, ok := info.Permit().UserData.(eagerPermit); ok {
		s.inFlight.Add(-1)
	}
	s.SlotSupplier.ReleaseSlot(info)
}

// eagerTuner is the SDK's default tuner but for its workflow task slots,
// which hold eager starts to a bound.
type eagerTuner struct {
	worker.WorkerTuner
	workflow *eagerSlots
}

func newEagerTuner(bound int) (eagerTuner, error) {
	t, err := worker.NewFixedSizeTuner(worker.FixedSizeTunerOptions{})
	if err != nil {
		return eagerTuner{}, fmt.Errorf("worker tuner: %w", err)
	}
	return eagerTuner{WorkerTuner: t, workflow: &eagerSlots{SlotSupplier: t.GetWorkflowTaskSlotSupplier(), bound: int64(bound)}}, nil
}

// GetWorkflowTaskSlotSupplier returns the slots that bound eager starts.
func (t eagerTuner) GetWorkflowTaskSlotSupplier() worker.SlotSupplier { return t.workflow }
