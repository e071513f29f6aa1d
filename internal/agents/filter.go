// Package agents decides which Amazon Connect users a tenant analyses as
// agents: the tenant's filter, and the user fields it reads.
package agents

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// User is what the filter reads of an Amazon Connect user.
type User struct {
	Username           string
	RoutingProfileID   string
	SecurityProfileIDs []string
	HierarchyGroupID   string
	Tags               map[string]string
}

// Filter selects which users become agents. Each non-empty field is one
// condition; a user must meet all of them (AND). Within a field, any listed
// value is enough (OR). The zero Filter selects every user.
type Filter struct {
	RoutingProfileIDs  []string `json:"routingProfileIds,omitempty"`
	SecurityProfileIDs []string `json:"securityProfileIds,omitempty"`
	HierarchyGroupIDs  []string `json:"hierarchyGroupIds,omitempty"`
	// UsernamePatterns are shell patterns (path.Match), such as "agent.*".
	UsernamePatterns []string `json:"usernamePatterns,omitempty"`
	// Tag is key=value.
	Tag string `json:"tag,omitempty"`
}

// Validate reports a malformed pattern or tag.
func (f Filter) Validate() error {
	for _, p := range f.UsernamePatterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("username pattern %q: %w", p, err)
		}
	}
	if f.Tag != "" {
		if k, _, ok := strings.Cut(f.Tag, "="); !ok || k == "" {
			return fmt.Errorf("tag %q: want key=value", f.Tag)
		}
	}
	return nil
}

// Matches reports whether u meets every condition of f.
func (f Filter) Matches(u User) bool {
	if len(f.RoutingProfileIDs) > 0 && !slices.Contains(f.RoutingProfileIDs, u.RoutingProfileID) {
		return false
	}
	if len(f.SecurityProfileIDs) > 0 && !slices.ContainsFunc(u.SecurityProfileIDs, func(id string) bool {
		return slices.Contains(f.SecurityProfileIDs, id)
	}) {
		return false
	}
	if len(f.HierarchyGroupIDs) > 0 && !slices.Contains(f.HierarchyGroupIDs, u.HierarchyGroupID) {
		return false
	}
	if len(f.UsernamePatterns) > 0 && !slices.ContainsFunc(f.UsernamePatterns, func(p string) bool {
		ok, _ := path.Match(p, u.Username)
		return ok
	}) {
		return false
	}
	if f.Tag != "" {
		k, v, _ := strings.Cut(f.Tag, "=")
		if got, ok := u.Tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// String describes the filter for people, such as "routing profile rp-1 or
// rp-2, and tag team=blue"; the zero Filter is "every user".
func (f Filter) String() string {
	var conds []string
	add := func(what string, values []string) {
		if len(values) > 0 {
			conds = append(conds, what+" "+strings.Join(values, " or "))
		}
	}
	add("routing profile", f.RoutingProfileIDs)
	add("security profile", f.SecurityProfileIDs)
	add("hierarchy group", f.HierarchyGroupIDs)
	add("username like", f.UsernamePatterns)
	if f.Tag != "" {
		conds = append(conds, "tag "+f.Tag)
	}
	if len(conds) == 0 {
		return "every user"
	}
	return strings.Join(conds, ", and ")
}
