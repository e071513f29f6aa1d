// Package testkit and the packages below it are what tests and the local
// stand-ins use, never what ships: nothing under internal/testkit is
// imported by the gateway, the worker or ingestctl outside their tests (the
// floors test holds them to it).
//
//   - testenv gives tests the local stack's services, fresh per test.
//   - connectapi serves the part of the Amazon Connect API the agent sync
//     reads, as strictly as Connect does; connectsim serve runs it.
//   - ctrtest builds realistic contact trace records.
//   - wav writes recordings shaped like Amazon Connect's.
package testkit
