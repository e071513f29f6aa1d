package workflows_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// payloads returns the data of every payload anywhere in m: signal inputs,
// activity inputs and results, local-activity markers, search attributes,
// failures.
func payloads(m protoreflect.Message) [][]byte {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		return [][]byte{p.GetData()}
	}
	var out [][]byte
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				out = append(out, payloads(v.List().Get(i).Message())...)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				out = append(out, payloads(mv.Message())...)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			out = append(out, payloads(v.Message())...)
		}
		return true
	})
	return out
}

// customerData matches what a CTR holds that history must not: phone
// numbers, the endpoint and attribute fields, and the CTR's own shape.
var customerData = regexp.MustCompile(`\+\d{7,}|"(CustomerEndpoint|SystemEndpoint|Attributes|InitiationMethod|DisconnectReason|CTR)"\s*:\s*[^\s"n]`)

// TestHistoriesHoldNoCustomerData reads every history recorded from a real
// run of ConversationWorkflowV2 or V3 and checks that no payload in it carries
// CTR content: the claim check keeps the CTR in Postgres, and history holds
// references, states and decisions only. A voice call's whole history
// stays under 4 KB.
func TestHistoriesHoldNoCustomerData(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/conversation_v[23]_*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found %d recorded ConversationWorkflowV2 and V3 histories, want at least 8", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var h historypb.History
			if err := protojson.Unmarshal(b, &h); err != nil {
				t.Fatal(err)
			}
			ps := payloads(h.ProtoReflect())
			if len(ps) < 3 {
				t.Fatalf("only %d payloads: not a conversation's history", len(ps))
			}
			for _, p := range ps {
				if m := customerData.Find(p); m != nil {
					t.Errorf("a payload carries %q: %.200s", m, p)
				}
			}
			if strings.Contains(f, "voice") {
				if size := proto.Size(&h); size > 4096 {
					t.Errorf("a voice call's history is %d bytes, want at most 4 KB", size)
				}
			}
		})
	}
}

// TestVoiceCallInOneWorkflowTask reads the recorded history of a
// ConversationWorkflowV4 voice call whose recording was in S3: started with
// its CTR version in the input (no signal), one workflow task, no activity
// task, and one search-attribute upsert.
func TestVoiceCallInOneWorkflowTask(t *testing.T) {
	b, err := os.ReadFile("testdata/histories/conversation_v4_voice.json")
	if err != nil {
		t.Fatal(err)
	}
	var h historypb.History
	if err := protojson.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	count := map[enumspb.EventType]int{}
	for _, ev := range h.GetEvents() {
		count[ev.GetEventType()]++
	}
	if n := count[enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]; n != 0 {
		t.Errorf("%d signals, want none: the version rides in the start's input", n)
	}
	if n := count[enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]; n != 1 {
		t.Errorf("%d workflow tasks completed, want 1", n)
	}
	if n := count[enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]; n != 0 {
		t.Errorf("%d activity tasks scheduled, want none", n)
	}
	if n := count[enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]; n != 1 {
		t.Errorf("%d search-attribute upserts, want 1", n)
	}
	if n := count[enumspb.EVENT_TYPE_MARKER_RECORDED]; n != 3 {
		t.Errorf("%d local activities recorded, want 3 (record, copy, enqueue)", n)
	}
	if count[enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED] != 1 {
		t.Error("the run did not complete")
	}
}

// TestHistoryCheckFindsCustomerData holds the check above to what it must
// catch, in the first version's histories, which carried the CTR whole.
func TestHistoryCheckFindsCustomerData(t *testing.T) {
	b, err := os.ReadFile("testdata/histories/conversation_voice_enqueued.json")
	if err != nil {
		t.Fatal(err)
	}
	var h historypb.History
	if err := protojson.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range payloads(h.ProtoReflect()) {
		found = found || customerData.Match(p)
	}
	if !found {
		t.Fatal("the check finds no CTR content in a history that signalled the CTR whole")
	}
}
