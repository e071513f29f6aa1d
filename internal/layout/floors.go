// Package layout declares the floors of connect-ingest's packages. A
// package may import packages on its own floor or below, never above:
// programs use the workflows' client side, which starts the workflows,
// which name their activities, which stand on the shared model and
// plumbing. Test support (internal/testkit) stands beside the floors: tests
// anywhere may use it, shipped programs never do. The test beside this file
// holds every package of the module to these rules.
package layout

import "strings"

// Floor is a storey of the house, numbered from the top.
type Floor int

// The floors, top to bottom.
const (
	Programs    Floor = iota + 1 // gateway, worker, cmd/*, e2e
	Operations                   // operations: the workflows' client side
	Workflows                    // workflows
	Activities                   // activities and the gateway's ingest path
	Model                        // internal/: model and plumbing
	TestSupport                  // internal/testkit: beside the floors, never shipped
)

// String names the floor as docs/ARCHITECTURE.md does.
func (f Floor) String() string {
	switch f {
	case Programs:
		return "programs"
	case Operations:
		return "operations"
	case Workflows:
		return "workflows"
	case Activities:
		return "activities and gateway"
	case Model:
		return "internal model and plumbing"
	case TestSupport:
		return "test support"
	}
	return "unknown"
}

// Of returns the floor of a package, given its path inside the module, and
// false for a path no floor claims (a new top-level folder must be given
// one here).
func Of(rel string) (Floor, bool) {
	top, _, _ := strings.Cut(rel, "/")
	switch {
	case rel == "internal/testkit" || strings.HasPrefix(rel, "internal/testkit/"):
		return TestSupport, true
	case rel == "internal/ingest":
		return Activities, true
	case top == "internal":
		return Model, true
	case top == "activities":
		return Activities, true
	case top == "workflows":
		return Workflows, true
	case top == "operations":
		return Operations, true
	case top == "gateway", top == "worker", top == "cmd", top == "e2e":
		return Programs, true
	}
	return 0, false
}

// Ships reports whether the package at rel is deployed, and so must not use
// test support outside its tests: every package but test support itself
// and the development programs (connectsim, the Amazon Connect stand-in;
// benchreport; e2e).
func Ships(rel string) bool {
	switch rel {
	case "cmd/connectsim", "cmd/benchreport", "e2e":
		return false
	}
	f, _ := Of(rel)
	return f != TestSupport
}
