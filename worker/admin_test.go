package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connectingest/connect-ingest/internal/conversation"
	"github.com/connectingest/connect-ingest/operations"
)

// adminCall makes one request of the pipeline worker's admin API.
func (p *pipeline) adminCall(t *testing.T, method, path, token, body string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+p.admin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func TestAdminAPI(t *testing.T) {
	p := startPipeline(t)
	const token = "pipeline-admin-token"
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	bucket := p.tenant.RecordingBuckets[0]
	p.send(p.ctr("c-wait", t0, bucket+"/never/c-wait.wav"))
	p.waitState("c-wait", conversation.WaitingRecording, time.Minute)
	base := "/v1/calls/" + p.tenant.ID + "/c-wait"
	// Searches read Temporal's visibility store, which indexes a new run a
	// moment after it starts.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, body, _ := p.adminCall(t, "GET", "/v1/calls?tenant="+p.tenant.ID, token, "")
		if strings.Contains(string(body), `"c-wait"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the search never found the call: %s", body)
		}
	}

	t.Run("every route refuses a missing or wrong token", func(t *testing.T) {
		for _, r := range (&adminAPI{}).routes() {
			path := strings.NewReplacer("{tenant}", p.tenant.ID, "{contactId}", "c-wait").Replace(r.pattern)
			for _, tok := range []string{"", "wrong-token", token + "x"} {
				status, _, h := p.adminCall(t, r.method, path, tok, `{"reason":"x","tenant":"x"}`)
				if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s %s with token %q: %d", r.method, path, tok, status)
				}
			}
		}
		if st := p.waitState("c-wait", conversation.WaitingRecording, time.Second); st.State != conversation.WaitingRecording {
			t.Fatal("an unauthorized request changed the call")
		}
	})

	t.Run("GET /v1/calls finds the call with its workflow", func(t *testing.T) {
		status, body, _ := p.adminCall(t, "GET", "/v1/calls?tenant="+p.tenant.ID+"&olderThan=1ns", token, "")
		var got struct{ Calls []operations.View }
		if err := json.Unmarshal(body, &got); status != 200 || err != nil {
			t.Fatalf("%d %s", status, body)
		}
		if len(got.Calls) != 1 || got.Calls[0].ContactID != "c-wait" || got.Calls[0].Workflow == nil || got.Calls[0].Workflow.Status != "Running" {
			t.Fatalf("calls = %s", body)
		}
		if status, body, _ := p.adminCall(t, "GET", "/v1/calls?stuck=maybe", token, ""); status != 400 {
			t.Fatalf("a malformed filter: %d %s", status, body)
		}
	})

	t.Run("GET one call, and 404 for an unknown one", func(t *testing.T) {
		status, body, _ := p.adminCall(t, "GET", base, token, "")
		var v operations.View
		if err := json.Unmarshal(body, &v); status != 200 || err != nil || v.State != conversation.WaitingRecording || v.TemporalURL == "" {
			t.Fatalf("%d %s", status, body)
		}
		if status, _, _ := p.adminCall(t, "GET", "/v1/calls/"+p.tenant.ID+"/nobody", token, ""); status != 404 {
			t.Fatalf("unknown call: %d", status)
		}
	})

	t.Run("bulk retry with dryRun lists the matches and does nothing", func(t *testing.T) {
		status, body, _ := p.adminCall(t, "POST", "/v1/calls/retry", token, `{"tenant":"`+p.tenant.ID+`","olderThan":"1ns","dryRun":true}`)
		var got struct {
			Matched []operations.View
			Results []json.RawMessage
		}
		if err := json.Unmarshal(body, &got); status != 200 || err != nil || len(got.Matched) != 1 || len(got.Results) != 0 {
			t.Fatalf("%d %s", status, body)
		}
		if status, _, _ := p.adminCall(t, "POST", "/v1/calls/retry", token, `{}`); status != 400 {
			t.Fatalf("a bulk retry without a filter: %d", status)
		}
	})

	t.Run("cancel needs a reason, then cancels; a second cancel conflicts", func(t *testing.T) {
		if status, _, _ := p.adminCall(t, "POST", base+"/cancel", token, `{}`); status != 400 {
			t.Fatalf("cancel without a reason: %d", status)
		}
		if status, body, _ := p.adminCall(t, "POST", base+"/cancel", token, `{"reason":"duplicate call"}`); status != 202 {
			t.Fatalf("cancel: %d %s", status, body)
		}
		c := p.waitState("c-wait", conversation.Cancelled, time.Minute)
		if c.StateDetail != "duplicate call" {
			t.Fatalf("detail = %q", c.StateDetail)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			status, body, _ := p.adminCall(t, "POST", base+"/cancel", token, `{"reason":"again"}`)
			if status == 409 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("second cancel: %d %s", status, body)
			}
			time.Sleep(100 * time.Millisecond) // the run is still closing
		}
	})
}

// TestAdminAPIDescription holds docs/admin-api.openapi.json to the routes
// the worker serves: every route documented, nothing documented that is not
// served.
func TestAdminAPIDescription(t *testing.T) {
	raw, err := os.ReadFile("../docs/admin-api.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Components.SecuritySchemes["bearer"] == nil {
		t.Fatalf("openapi %q, security schemes %v", doc.OpenAPI, doc.Components.SecuritySchemes)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	for _, r := range (&adminAPI{}).routes() {
		served = append(served, r.method+" "+r.pattern)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("documented %v\nserved     %v", documented, served)
	}
}
