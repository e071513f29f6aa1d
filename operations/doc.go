// Package operations is the client side of connect-ingest's workflows:
// what programs do to them from outside. Operators find conversations
// (stuck, failed, by state or age) with their workflow's status, retry and
// cancel them, through ingestctl and the worker's admin API alike; and each
// tenant's agent-sync Temporal Schedule is kept in step with its settings.
//
// It sits above workflows/ and never below it: workflows name their
// activities, operations name the workflows.
package operations
