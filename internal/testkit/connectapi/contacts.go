package connectapi

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// Contact is one contact as Amazon Connect keeps it, whether or not its
// CTR ever reached connect-ingest: what SearchContacts and DescribeContact
// answer from.
type Contact struct {
	ID                  string
	Channel             string
	InitiationMethod    string
	InitiationTimestamp time.Time
	DisconnectTimestamp time.Time
	LastUpdateTimestamp time.Time
	AgentID             string    `json:",omitempty"`
	ConnectedToAgent    time.Time `json:",omitzero"`
	QueueID             string    `json:",omitempty"`
	EnqueueTimestamp    time.Time `json:",omitzero"`
	InitialContactID    string    `json:",omitempty"`
	PreviousContactID   string    `json:",omitempty"`
	DisconnectReason    string    `json:",omitempty"`
	Attributes          map[string]string
	Recordings          []Recording `json:",omitempty"`
}

// Recording is a contact's recording as DescribeContact lists it.
type Recording struct {
	Location        string
	Status          string
	MediaStreamType string `json:",omitempty"`
	DeletionReason  string `json:",omitempty"`
}

// timestamp returns the contact's timestamp of a SearchContacts time-range
// type, zero when it has none.
func (c Contact) timestamp(typ string) time.Time {
	switch typ {
	case "INITIATION_TIMESTAMP":
		return c.InitiationTimestamp
	case "DISCONNECT_TIMESTAMP":
		return c.DisconnectTimestamp
	case "CONNECTED_TO_AGENT_TIMESTAMP":
		return c.ConnectedToAgent
	case "ENQUEUE_TIMESTAMP":
		return c.EnqueueTimestamp
	}
	return time.Time{}
}

// Contacts is one instance's contacts. It is safe for concurrent use. When
// read from a file, the file is one JSON contact per line, which another
// process (connectsim day) may append to: lines added since the last read
// are taken up before each answer, and a later line for a contact replaces
// the earlier.
type Contacts struct {
	mu   sync.Mutex
	byID map[string]Contact
	path string
	read int64
}

// NewContacts returns an empty set of contacts.
func NewContacts() *Contacts {
	return &Contacts{byID: map[string]Contact{}}
}

// ContactsFromFile returns the contacts of the JSON-lines file at path,
// which need not exist yet.
func ContactsFromFile(path string) *Contacts {
	c := NewContacts()
	c.path = path
	return c
}

// Put adds or replaces a contact.
func (c *Contacts) Put(contact Contact) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byID[contact.ID] = contact
}

// Get returns the contact with the ID.
func (c *Contacts) Get(id string) (Contact, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refresh(); err != nil {
		return Contact{}, false, err
	}
	contact, ok := c.byID[id]
	return contact, ok, nil
}

// between returns the contacts whose timestamp of type typ is within
// [start, end], ordered by that timestamp, then ID.
func (c *Contacts) between(typ string, start, end time.Time) ([]Contact, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refresh(); err != nil {
		return nil, err
	}
	var out []Contact
	for _, contact := range c.byID {
		if ts := contact.timestamp(typ); !ts.IsZero() && !ts.Before(start) && !ts.After(end) {
			out = append(out, contact)
		}
	}
	slices.SortFunc(out, func(a, b Contact) int {
		return cmp.Or(a.timestamp(typ).Compare(b.timestamp(typ)), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// refresh reads the lines appended to the file since the last read; a
// last line not yet complete waits for the next.
func (c *Contacts) refresh() error {
	if c.path == "" {
		return nil
	}
	f, err := os.Open(c.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(c.read, 0); err != nil {
		return err
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			// EOF, with at most a partial line left for the next read.
			return nil
		}
		c.read += int64(len(line))
		var contact Contact
		if err := json.Unmarshal(line, &contact); err != nil {
			return fmt.Errorf("contacts file %s: %w", c.path, err)
		}
		c.byID[contact.ID] = contact
	}
}
