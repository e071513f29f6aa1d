// Package jobschema checks messages against the JSON Schemas in
// docs/schemas, the contract the analysis platform consumes.
package jobschema

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// The schemas' file names in docs/schemas.
const (
	AnalysisJob = "analysis-job.schema.json"
	ChatJob     = "chat-analysis-job.schema.json"
)

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Validate fails the test unless body is valid against the named schema.
func Validate(tb testing.TB, schema string, body []byte) {
	tb.Helper()
	if err := Check(tb, schema, body); err != nil {
		tb.Errorf("job does not match %s: %v\n%s", schema, err, body)
	}
}

// Check returns why body is not valid against the named schema, or nil.
func Check(tb testing.TB, schema string, body []byte) error {
	tb.Helper()
	s := load(tb, schema)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

func load(tb testing.TB, name string) *jsonschema.Schema {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[name]; ok {
		return s
	}
	path := filepath.Join(testenv.RepoRoot(tb), "docs", "schemas", name)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		tb.Fatalf("compile %s: %v", path, err)
	}
	compiled[name] = s
	return s
}
