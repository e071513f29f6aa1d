// Package deploycheck holds the tests of what ships to deploy
// connect-ingest outside the local stack: the Helm chart, rendered with
// the real helm and held to the Kubernetes API types. It has no code of
// its own.
package deploycheck
