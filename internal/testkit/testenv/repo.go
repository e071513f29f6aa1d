package testenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// RepoRoot is the module's directory: the nearest parent of the test's
// directory that holds go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// metricName finds the series names in a PromQL expression: identifiers
// that start with one of the programs' prefixes.
var metricName = regexp.MustCompile(`\b((?:gateway|worker|temporal)_[a-z0-9_]+)`)

// histogramSuffix is what PromQL appends to a histogram's name.
var histogramSuffix = regexp.MustCompile(`_(bucket|count|sum)$`)

// MetricsReferenced returns the names of the metric families, starting with
// prefix, that the shipped Grafana dashboards and Prometheus alert rules
// query (a histogram's _bucket, _count and _sum read as its family), each
// once, sorted.
func MetricsReferenced(tb testing.TB, prefix string) []string {
	tb.Helper()
	root := RepoRoot(tb)
	var exprs []string
	dashboards, _ := filepath.Glob(filepath.Join(root, "deploy", "grafana", "dashboards", "*.json"))
	for _, path := range dashboards {
		var d struct {
			Panels []struct {
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &d)
		}
		if err != nil {
			tb.Fatalf("dashboard %s: %v", path, err)
		}
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				exprs = append(exprs, t.Expr)
			}
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Expr string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "alerts.yml"))
	if err == nil {
		err = yaml.Unmarshal(b, &rules)
	}
	if err != nil {
		tb.Fatalf("alert rules: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	var names []string
	for _, e := range exprs {
		for _, m := range metricName.FindAllStringSubmatch(e, -1) {
			name := m[1]
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// Family is the metric family a referenced series name reads: a
// histogram's _bucket, _count or _sum series belong to it.
func Family(name string, families map[string]bool) string {
	if families[name] {
		return name
	}
	if base := histogramSuffix.ReplaceAllString(name, ""); families[base] {
		return base
	}
	return name
}

// CheckReferenced fails the test for each series starting with prefix that
// the dashboards and alert rules read and that families (a program's
// metric families) lacks, and when they read none at all.
func CheckReferenced(tb testing.TB, prefix string, families map[string]bool) {
	tb.Helper()
	refs := MetricsReferenced(tb, prefix)
	if len(refs) == 0 {
		tb.Fatalf("no dashboard or alert reads a %s* series", prefix)
	}
	for _, name := range refs {
		if !families[Family(name, families)] {
			tb.Errorf("the dashboards or alerts read %s, which the program does not export", name)
		}
	}
}
