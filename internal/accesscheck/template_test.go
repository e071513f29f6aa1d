package accesscheck_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/schema"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/connectingest/connect-ingest/internal/testkit/testenv"
)

// template reads deploy/aws/connect-ingest-tenant.yaml into plain JSON
// values, its short-form intrinsic functions (!Ref, !GetAtt, !Sub...)
// written out in their long form, as CloudFormation reads them.
func template(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "deploy", "aws", "connect-ingest-tenant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	v, ok := longForm(t, doc.Content[0]).(map[string]any)
	if !ok {
		t.Fatal("the template is not a mapping")
	}
	return v
}

func longForm(t *testing.T, n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = longForm(t, n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			s = append(s, longForm(t, c))
		}
		v = s
	case yaml.AliasNode:
		return longForm(t, n.Alias)
	default:
		var scalar any
		if err := n.Decode(&scalar); err != nil {
			// A tagged scalar (!Ref X) decodes as its plain value.
			scalar = n.Value
		}
		v = scalar
	}
	tag, ok := strings.CutPrefix(n.Tag, "!")
	if !ok || strings.HasPrefix(tag, "!") {
		return v
	}
	switch tag {
	case "Ref", "Condition":
		return map[string]any{tag: n.Value}
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{res, attr}}
		}
	}
	return map[string]any{"Fn::" + tag: v}
}

// resolve stands in for CloudFormation's intrinsic functions, which the
// resource schema does not model: each becomes the string it resolves to,
// and Fn::If its first branch (a branch of AWS::NoValue drops the value).
func resolve(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, x := range v {
				if k == "Fn::If" {
					branches, _ := x.([]any)
					if len(branches) == 3 {
						return resolve(branches[1])
					}
				}
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					if x == "AWS::NoValue" {
						return nil
					}
					return "resolved-" + strings.TrimPrefix(k, "Fn::")
				}
			}
		}
		out := map[string]any{}
		for k, x := range v {
			if r := resolve(x); r != nil {
				out[k] = r
			}
		}
		return out
	case []any:
		out := []any{}
		for _, x := range v {
			if r := resolve(x); r != nil {
				out = append(out, r)
			}
		}
		return out
	}
	return v
}

// refPattern finds the definitions a definition refers to.
var refPattern = regexp.MustCompile(`"\$ref":"#/definitions/([^"]+)"`)

func TestTenantTemplateIsValidCloudFormation(t *testing.T) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(schema.CloudformationSchema), &raw); err != nil {
		t.Fatal(err)
	}
	tmpl := template(t)
	// Only the definitions the template's types reach: the whole schema
	// is 44 MB, and compiling it takes most of a minute.
	defs := raw["definitions"].(map[string]any)
	used := map[string]any{}
	var reach func(name string)
	reach = func(name string) {
		if _, ok := used[name]; ok {
			return
		}
		def, ok := defs[name]
		if !ok {
			return
		}
		used[name] = def
		b, _ := json.Marshal(def)
		for _, m := range refPattern.FindAllStringSubmatch(string(b), -1) {
			reach(m[1])
		}
	}
	for _, r := range tmpl["Resources"].(map[string]any) {
		typ, _ := r.(map[string]any)["Type"].(string)
		reach(typ)
	}
	reach("AWS::Kinesis::Stream")
	c := jsonschema.NewCompiler()
	if err := c.AddResource("https://connect-ingest.dev/cloudformation.schema.json", map[string]any{
		"$schema": "http://json-schema.org/draft-04/schema#", "definitions": used,
	}); err != nil {
		t.Fatal(err)
	}
	const id = "https://connect-ingest.dev/cloudformation.schema.json"
	// Each resource against its type's definition first: the whole
	// template's errors are buried under every other type's.
	for name, r := range tmpl["Resources"].(map[string]any) {
		typ, _ := r.(map[string]any)["Type"].(string)
		def, err := c.Compile(id + "#/definitions/" + typ)
		if err != nil {
			t.Errorf("resource %s: CloudFormation has no type %q: %v", name, typ, err)
			continue
		}
		b, _ := json.Marshal(resolve(r))
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := def.Validate(doc); err != nil {
			t.Errorf("resource %s (%s): %v", name, typ, err)
		}
	}
	t.Run("and a resource with a property CloudFormation does not know is caught", func(t *testing.T) {
		def, err := c.Compile(id + "#/definitions/AWS::Kinesis::Stream")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(resolve(tmpl["Resources"].(map[string]any)["ContactStream"]))
		broken := strings.Replace(string(b), `"StreamModeDetails"`, `"StreamModeDetail"`, 1)
		doc, _ := jsonschema.UnmarshalJSON(strings.NewReader(broken))
		if def.Validate(doc) == nil {
			t.Fatal("a misspelt property passed")
		}
	})
}

func TestTenantTemplateGrantsExactlyWhatConnectIngestUses(t *testing.T) {
	tmpl := template(t)
	res := tmpl["Resources"].(map[string]any)
	role := res["ConnectIngestRole"].(map[string]any)["Properties"].(map[string]any)
	var actions []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if st, ok := v["Effect"]; ok && st == "Allow" {
				switch a := v["Action"].(type) {
				case string:
					actions = append(actions, a)
				case []any:
					for _, x := range a {
						actions = append(actions, x.(string))
					}
				}
				if r, ok := v["Resource"].(string); ok && r == "*" {
					t.Errorf("a statement allows %v on every resource", v["Action"])
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(role["Policies"])
	slices.Sort(actions)
	want := []string{"connect:DescribeContact", "connect:DescribeUser", "connect:ListUsers", "connect:SearchContacts",
		"connect:SearchUsers", "kms:Decrypt", "s3:GetObject", "s3:ListBucket"}
	if !slices.Equal(actions, want) {
		t.Fatalf("the role allows %v, want exactly %v", actions, want)
	}
	trust, _ := json.Marshal(role["AssumeRolePolicyDocument"])
	if !strings.Contains(string(trust), `"sts:ExternalId":{"Ref":"ExternalId"}`) {
		t.Errorf("the role's trust policy does not require the tenant's external ID: %s", trust)
	}

	t.Run("Firehose delivers gzip to the endpoint with the key, and backs failures up where replay reads", func(t *testing.T) {
		d, _ := json.Marshal(res["DeliveryStream"])
		for _, want := range []string{`"Url":{"Ref":"EndpointUrl"}`, `"AccessKey":{"Ref":"EndpointAccessKey"}`,
			`"ContentEncoding":"GZIP"`, `"S3BackupMode":"FailedDataOnly"`, `"Prefix":"http-endpoint-failed/"`} {
			if !strings.Contains(string(d), want) {
				t.Errorf("the delivery stream lacks %s: %s", want, d)
			}
		}
	})
}
