// Package ctr models Amazon Connect contact trace records (contact records),
// parses them strictly enough to route them safely, and defines the envelope
// that carries one CTR version from the gateway to the worker.
package ctr

import "time"

// CTR is the part of an Amazon Connect contact record that connect-ingest
// reads. Connect adds fields over time; unknown fields are ignored here and
// kept in the raw JSON that travels with every record.
type CTR struct {
	ContactID           string            `json:"ContactId"`
	InstanceARN         string            `json:"InstanceARN"`
	AWSAccountID        string            `json:"AWSAccountId"`
	Channel             string            `json:"Channel"`
	InitiationMethod    string            `json:"InitiationMethod"`
	InitiationTimestamp *time.Time        `json:"InitiationTimestamp"`
	ConnectedToSystem   *time.Time        `json:"ConnectedToSystemTimestamp"`
	DisconnectTimestamp *time.Time        `json:"DisconnectTimestamp"`
	LastUpdateTimestamp time.Time         `json:"LastUpdateTimestamp"`
	DisconnectReason    string            `json:"DisconnectReason"`
	InitialContactID    string            `json:"InitialContactId"`
	PreviousContactID   string            `json:"PreviousContactId"`
	NextContactID       string            `json:"NextContactId"`
	Agent               *Agent            `json:"Agent"`
	Queue               *Queue            `json:"Queue"`
	CustomerEndpoint    *Endpoint         `json:"CustomerEndpoint"`
	SystemEndpoint      *Endpoint         `json:"SystemEndpoint"`
	Attributes          map[string]string `json:"Attributes"`
	Recording           *Recording        `json:"Recording"`
	Recordings          []Recording       `json:"Recordings"`
}

// Agent is the agent who handled the contact.
type Agent struct {
	ARN      string `json:"ARN"`
	Username string `json:"Username"`
}

// Queue is the queue the contact waited in.
type Queue struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

// Endpoint is a phone number or other address of a participant.
type Endpoint struct {
	Address string `json:"Address"`
	Type    string `json:"Type"`
}

// Recording is one recording of a contact. The legacy singular Recording field
// has Type instead of ParticipantType and MediaStreamType.
type Recording struct {
	Location        string `json:"Location"`
	Status          string `json:"Status"`
	StorageType     string `json:"StorageType"`
	Type            string `json:"Type"`
	MediaStreamType string `json:"MediaStreamType"`
	ParticipantType string `json:"ParticipantType"`
	DeletionReason  string `json:"DeletionReason"`
}
