package agents_test

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/agents"
)

var user = agents.User{
	Username: "agent.amelia", RoutingProfileID: "rp-retail", SecurityProfileIDs: []string{"sp-agent", "sp-qa"},
	HierarchyGroupID: "hg-london", Tags: map[string]string{"team": "blue"},
}

func TestFilterMatches(t *testing.T) {
	cases := []struct {
		name   string
		filter agents.Filter
		want   bool
	}{
		{"the zero filter selects everyone", agents.Filter{}, true},
		{"a routing profile in the list matches", agents.Filter{RoutingProfileIDs: []string{"rp-sales", "rp-retail"}}, true},
		{"a routing profile not in the list does not", agents.Filter{RoutingProfileIDs: []string{"rp-sales"}}, false},
		{"any shared security profile matches", agents.Filter{SecurityProfileIDs: []string{"sp-qa"}}, true},
		{"no shared security profile does not", agents.Filter{SecurityProfileIDs: []string{"sp-admin"}}, false},
		{"a hierarchy group matches", agents.Filter{HierarchyGroupIDs: []string{"hg-london"}}, true},
		{"a username pattern matches", agents.Filter{UsernamePatterns: []string{"supervisor.*", "agent.*"}}, true},
		{"no username pattern matches", agents.Filter{UsernamePatterns: []string{"supervisor.*"}}, false},
		{"the tag matches", agents.Filter{Tag: "team=blue"}, true},
		{"another tag value does not", agents.Filter{Tag: "team=red"}, false},
		{"a missing tag does not", agents.Filter{Tag: "site=leeds"}, false},
		{"conditions combine with AND: all met", agents.Filter{RoutingProfileIDs: []string{"rp-retail"}, Tag: "team=blue"}, true},
		{"conditions combine with AND: one unmet", agents.Filter{RoutingProfileIDs: []string{"rp-retail"}, Tag: "team=red"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.filter.Matches(user); got != tc.want {
				t.Fatalf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	if err := (agents.Filter{UsernamePatterns: []string{"[a-"}}).Validate(); err == nil {
		t.Error("a malformed pattern validated")
	}
	if err := (agents.Filter{Tag: "novalue"}).Validate(); err == nil {
		t.Error("a tag without = validated")
	}
	if err := (agents.Filter{UsernamePatterns: []string{"agent.*"}, Tag: "team=blue"}).Validate(); err != nil {
		t.Errorf("a good filter: %v", err)
	}
}

func TestFilterString(t *testing.T) {
	cases := []struct {
		f    agents.Filter
		want string
	}{
		{agents.Filter{}, "every user"},
		{agents.Filter{RoutingProfileIDs: []string{"rp-1", "rp-2"}, Tag: "team=blue"}, "routing profile rp-1 or rp-2, and tag team=blue"},
		{agents.Filter{UsernamePatterns: []string{"agent.*"}, HierarchyGroupIDs: []string{"hg"}}, "hierarchy group hg, and username like agent.*"},
	}
	for _, c := range cases {
		if got := c.f.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.f, got, c.want)
		}
	}
}
