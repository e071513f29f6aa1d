package layout_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/layout"
)

// pkg is one package of the module with what its code and its tests import.
type pkg struct {
	rel         string
	imports     []string
	testImports []string
}

// modulePackages lists the module's packages through the go command, with
// their imports inside the module, as paths relative to the module root.
func modulePackages(t *testing.T) []pkg {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}|{{.Path}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	dir, module, _ := strings.Cut(strings.TrimSpace(string(root)), "|")
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports ","}}|{{join .TestImports ","}},{{join .XTestImports ","}}`, "./...")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	rel := func(p string) (string, bool) {
		if p == module {
			return "", true
		}
		r, ok := strings.CutPrefix(p, module+"/")
		return r, ok
	}
	inModule := func(list string) []string {
		var rs []string
		for _, p := range strings.Split(list, ",") {
			if r, ok := rel(p); ok && p != "" {
				rs = append(rs, r)
			}
		}
		return rs
	}
	var pkgs []pkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		r, _ := rel(parts[0])
		pkgs = append(pkgs, pkg{rel: r, imports: inModule(parts[1]), testImports: inModule(parts[2])})
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; the module has more", len(pkgs))
	}
	return pkgs
}

func TestFloors(t *testing.T) {
	pkgs := modulePackages(t)

	t.Run("every package stands on a floor", func(t *testing.T) {
		for _, p := range pkgs {
			if _, ok := layout.Of(p.rel); !ok {
				t.Errorf("%s: no floor; give its folder one in internal/layout", p.rel)
			}
		}
	})

	t.Run("no package imports one on a higher floor", func(t *testing.T) {
		for _, p := range pkgs {
			from, _ := layout.Of(p.rel)
			if from == layout.TestSupport {
				continue // held by its own rule below
			}
			for _, imp := range p.imports {
				to, _ := layout.Of(imp)
				if to < from {
					t.Errorf("%s (%s) imports %s (%s), a higher floor", p.rel, from, imp, to)
				}
			}
		}
	})

	t.Run("tests may use test support, but reach no higher than their package", func(t *testing.T) {
		for _, p := range pkgs {
			from, _ := layout.Of(p.rel)
			for _, imp := range p.testImports {
				to, _ := layout.Of(imp)
				if to < from && to != layout.TestSupport {
					t.Errorf("tests of %s (%s) import %s (%s), a higher floor", p.rel, from, imp, to)
				}
			}
		}
	})

	t.Run("test support stands on the model alone", func(t *testing.T) {
		for _, p := range pkgs {
			if f, _ := layout.Of(p.rel); f != layout.TestSupport {
				continue
			}
			for _, imp := range p.imports {
				if to, _ := layout.Of(imp); to != layout.Model && to != layout.TestSupport {
					t.Errorf("%s imports %s (%s); test support may use only the model and itself", p.rel, imp, to)
				}
			}
		}
	})

	t.Run("outside tests, only the development programs use test support", func(t *testing.T) {
		for _, p := range pkgs {
			from, _ := layout.Of(p.rel)
			if from == layout.TestSupport || (from == layout.Programs && !layout.Ships(p.rel)) {
				continue
			}
			for _, imp := range p.imports {
				if to, _ := layout.Of(imp); to == layout.TestSupport {
					t.Errorf("%s (%s) imports %s outside its tests", p.rel, from, imp)
				}
			}
		}
	})
}

func TestOf(t *testing.T) {
	cases := map[string]layout.Floor{
		"gateway": layout.Programs, "cmd/ingestctl": layout.Programs, "e2e": layout.Programs,
		"operations": layout.Operations, "workflows": layout.Workflows,
		"activities": layout.Activities, "internal/ingest": layout.Activities,
		"internal/store": layout.Model, "internal/testkit/testenv": layout.TestSupport,
		"internal/testkit": layout.TestSupport,
	}
	for rel, want := range cases {
		if got, ok := layout.Of(rel); !ok || got != want {
			t.Errorf("Of(%q) = %s, %v; want %s", rel, got, ok, want)
		}
	}
	if _, ok := layout.Of("pkg/util"); ok {
		t.Error("a folder no floor claims has a floor")
	}
}
