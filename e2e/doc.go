// Package e2e tests connect-ingest end to end through its real programs:
// connectsim posts a day of calls to the gateway, the worker runs them
// through Temporal into Postgres, MinIO and the analysis queue, and the
// tests check every contact's outcome against what connectsim says it sent.
package e2e
