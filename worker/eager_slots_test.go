package main

import (
	"testing"

	"go.temporal.io/sdk/worker"
)

// released is the release of one permit; the suppliers under test read
// nothing else of it.
type released struct {
	worker.SlotReleaseInfo
	permit *worker.SlotPermit
}

func (r released) Permit() *worker.SlotPermit { return r.permit }

func TestEagerSlots(t *testing.T) {
	newSlots := func(t *testing.T, slots, eager int) *eagerSlots {
		t.Helper()
		inner, err := worker.NewFixedSizeSlotSupplier(slots)
		if err != nil {
			t.Fatal(err)
		}
		return &eagerSlots{SlotSupplier: inner, bound: int64(eager)}
	}

	t.Run("eager starts get slots while fewer than the bound are in flight", func(t *testing.T) {
		s := newSlots(t, 10, 2)
		first, second := s.TryReserveSlot(nil), s.TryReserveSlot(nil)
		if first == nil || second == nil {
			t.Fatal("an eager start was refused under the bound")
		}
		if s.TryReserveSlot(nil) != nil {
			t.Fatal("a third eager start got a slot past a bound of 2")
		}
		s.ReleaseSlot(released{permit: first})
		if s.TryReserveSlot(nil) == nil {
			t.Fatal("an eager start was refused after one in flight ended")
		}
	})

	t.Run("tasks from the task queue are not held to the eager bound, nor count against it", func(t *testing.T) {
		s := newSlots(t, 10, 1)
		var polled []*worker.SlotPermit
		for range 5 {
			p, err := s.ReserveSlot(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			polled = append(polled, p)
		}
		eager := s.TryReserveSlot(nil)
		if eager == nil {
			t.Fatal("an eager start was refused beside five polled tasks")
		}
		for _, p := range polled {
			s.ReleaseSlot(released{permit: p})
		}
		if s.TryReserveSlot(nil) != nil {
			t.Fatal("releasing polled tasks' slots freed the eager start's")
		}
	})

	t.Run("an eager start never takes a slot the worker does not have", func(t *testing.T) {
		s := newSlots(t, 1, 5)
		if _, err := s.ReserveSlot(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		if s.TryReserveSlot(nil) != nil {
			t.Fatal("an eager start got a slot with every slot taken")
		}
		if n := s.inFlight.Load(); n != 0 {
			t.Fatalf("a refused eager start left %d counted in flight", n)
		}
	})

	t.Run("a bound of 0 starts nothing eagerly", func(t *testing.T) {
		if newSlots(t, 10, 0).TryReserveSlot(nil) != nil {
			t.Fatal("an eager start got a slot with the bound at 0")
		}
	})
}
