// Package connectapi serves the subset of the Amazon Connect API that
// connect-ingest uses (ListUsers, DescribeUser, SearchContacts and
// DescribeContact), in Amazon Connect's
// REST-JSON wire format, over a user directory that tests and the local demo
// can change. It throttles as Connect does, with 429 ThrottlingException, so
// that the real aws-sdk-go-v2 client, its pagination and its retries are
// exercised against it.
package connectapi

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// User is one Amazon Connect user.
type User struct {
	ID                 string
	Username           string
	FirstName          string
	LastName           string
	Email              string
	RoutingProfileID   string
	SecurityProfileIDs []string
	HierarchyGroupID   string
	Tags               map[string]string
	LastModified       time.Time
}

// Directory is one Connect instance's users. It is safe for concurrent use.
type Directory struct {
	InstanceID string
	Region     string
	Account    string

	mu    sync.Mutex
	users map[string]User
	now   func() time.Time
}

// NewDirectory returns a directory of n generated users.
func NewDirectory(instanceID string, n int) *Directory {
	d := &Directory{InstanceID: instanceID, Region: "eu-west-2", Account: "111122223333", users: map[string]User{}, now: time.Now}
	for i := range n {
		d.Put(GeneratedUser(i))
	}
	return d
}

// GeneratedUser returns the i-th user of a generated directory.
func GeneratedUser(i int) User {
	first := []string{"Amelia", "Oliver", "Isla", "Noah", "Ava", "Leo", "Mia", "Arthur"}[i%8]
	last := []string{"Jones", "Smith", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Walker"}[i/8%8]
	return User{
		ID:                 fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
		Username:           fmt.Sprintf("%s.%s.%d", lower(first), lower(last), i),
		FirstName:          first,
		LastName:           last,
		Email:              fmt.Sprintf("%s.%s.%d@example.com", lower(first), lower(last), i),
		RoutingProfileID:   []string{"rp-retail", "rp-support", "rp-sales"}[i%3],
		SecurityProfileIDs: []string{"sp-agent"},
		HierarchyGroupID:   []string{"hg-london", "hg-leeds"}[i%2],
		Tags:               map[string]string{"team": []string{"blue", "green", "red"}[i%3]},
	}
}

func lower(s string) string {
	b := []byte(s)
	if len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

// Put adds or replaces a user, stamping its LastModified time.
func (d *Directory) Put(u User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u.LastModified = d.now().UTC().Truncate(time.Millisecond)
	d.users[u.ID] = u
}

// Remove deletes a user, as an administrator removing a leaver does.
func (d *Directory) Remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.users, id)
}

// Get returns one user.
func (d *Directory) Get(id string) (User, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[id]
	return u, ok
}

// List returns every user, ordered by ID, as Connect pages them.
func (d *Directory) List() []User {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := slices.Sorted(maps.Keys(d.users))
	out := make([]User, len(ids))
	for i, id := range ids {
		out[i] = d.users[id]
	}
	return out
}

// ARN is the user's ARN in this instance.
func (d *Directory) ARN(id string) string {
	return fmt.Sprintf("arn:aws:connect:%s:%s:instance/%s/agent/%s", d.Region, d.Account, d.InstanceID, id)
}
