package connectapi

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"time"
)

// maxSearchPage is SearchContacts' largest page, as Connect documents it.
const maxSearchPage = 100

// searchRequest is SearchContacts' body; timestamps are epoch seconds.
type searchRequest struct {
	InstanceId string
	TimeRange  *struct {
		Type      string
		StartTime *float64
		EndTime   *float64
	}
	MaxResults *int
	NextToken  *string
}

// searchToken is the position a NextToken stands for, with the query it
// belongs to: a token is refused with another query, as Connect does.
type searchToken struct {
	Type       string
	Start, End float64
	At         time.Time
	ID         string
}

func (s *Server) searchContacts(w http.ResponseWriter, r *http.Request) {
	s.SearchCalls.Add(1)
	if s.refused(w, "SearchContacts") {
		return
	}
	if !s.admit(w) {
		return
	}
	var req searchRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestException", "the request body is not valid JSON")
		return
	}
	if req.InstanceId != s.dir.InstanceID {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "instance not found")
		return
	}
	tr := req.TimeRange
	if tr == nil || tr.StartTime == nil || tr.EndTime == nil || !slices.Contains(timeRangeTypes, tr.Type) {
		apiError(w, http.StatusBadRequest, "InvalidParameterException", "TimeRange needs Type, StartTime and EndTime")
		return
	}
	if *tr.EndTime < *tr.StartTime {
		apiError(w, http.StatusBadRequest, "InvalidParameterException", "StartTime must not be after EndTime")
		return
	}
	size := maxSearchPage
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > maxSearchPage {
			apiError(w, http.StatusBadRequest, "InvalidParameterException", "MaxResults must be 1 to 100")
			return
		}
		size = *req.MaxResults
	}
	contacts, err := s.contacts.between(tr.Type, fromEpoch(*tr.StartTime), fromEpoch(*tr.EndTime))
	if err != nil {
		apiError(w, http.StatusInternalServerError, "InternalServiceException", err.Error())
		return
	}
	start := 0
	if req.NextToken != nil {
		tok, ok := decodeToken(*req.NextToken)
		if !ok || tok.Type != tr.Type || tok.Start != *tr.StartTime || tok.End != *tr.EndTime {
			apiError(w, http.StatusBadRequest, "InvalidParameterException", "the next token is not valid for this search")
			return
		}
		// The token is the last contact of the previous page, so a page
		// stays right while contacts are added between calls.
		for start < len(contacts) && !after(contacts[start], tr.Type, tok) {
			start++
		}
	}
	end := min(start+size, len(contacts))
	out := struct {
		Contacts   []map[string]any
		NextToken  *string `json:",omitempty"`
		TotalCount int64
	}{Contacts: []map[string]any{}, TotalCount: int64(len(contacts))}
	for _, c := range contacts[start:end] {
		out.Contacts = append(out.Contacts, s.summary(c))
	}
	if end < len(contacts) {
		last := contacts[end-1]
		tok := encodeToken(searchToken{Type: tr.Type, Start: *tr.StartTime, End: *tr.EndTime, At: last.timestamp(tr.Type), ID: last.ID})
		out.NextToken = &tok
	}
	writeJSON(w, http.StatusOK, out)
}

var timeRangeTypes = []string{"INITIATION_TIMESTAMP", "SCHEDULED_TIMESTAMP", "CONNECTED_TO_AGENT_TIMESTAMP", "DISCONNECT_TIMESTAMP", "ENQUEUE_TIMESTAMP"}

// after reports whether c comes after the token's position.
func after(c Contact, typ string, tok searchToken) bool {
	ts := c.timestamp(typ)
	return ts.After(tok.At) || ts.Equal(tok.At) && c.ID > tok.ID
}

func encodeToken(t searchToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (searchToken, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var t searchToken
	if err != nil || json.Unmarshal(b, &t) != nil {
		return searchToken{}, false
	}
	return t, true
}

// summary is a contact as SearchContacts lists it: no attributes, no
// recordings.
func (s *Server) summary(c Contact) map[string]any {
	m := map[string]any{
		"Id": c.ID, "Arn": s.contactARN(c.ID), "Channel": c.Channel, "InitiationMethod": c.InitiationMethod,
		"InitiationTimestamp": epoch(c.InitiationTimestamp),
	}
	optional(m, c)
	return m
}

func (s *Server) describeContact(w http.ResponseWriter, r *http.Request) {
	s.DescribeContactCalls.Add(1)
	if s.refused(w, "DescribeContact") {
		return
	}
	if !s.admit(w) {
		return
	}
	if r.PathValue("instance") != s.dir.InstanceID {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "instance not found")
		return
	}
	c, ok, err := s.contacts.Get(r.PathValue("contact"))
	if err != nil {
		apiError(w, http.StatusInternalServerError, "InternalServiceException", err.Error())
		return
	}
	if !ok {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "contact not found")
		return
	}
	m := map[string]any{
		"Id": c.ID, "Arn": s.contactARN(c.ID), "Channel": c.Channel, "InitiationMethod": c.InitiationMethod,
		"InitiationTimestamp": epoch(c.InitiationTimestamp), "LastUpdateTimestamp": epoch(c.LastUpdateTimestamp),
		"Attributes": c.Attributes,
	}
	optional(m, c)
	if c.DisconnectReason != "" {
		m["DisconnectReason"] = c.DisconnectReason
	}
	if len(c.Recordings) > 0 {
		var recs []map[string]any
		for _, rec := range c.Recordings {
			e := map[string]any{"Location": rec.Location, "Status": rec.Status, "StorageType": "S3",
				"MediaStreamType": cmp.Or(rec.MediaStreamType, "AUDIO"), "ParticipantType": "ALL"}
			if rec.DeletionReason != "" {
				e["DeletionReason"] = rec.DeletionReason
			}
			recs = append(recs, e)
		}
		m["Recordings"] = recs
	}
	writeJSON(w, http.StatusOK, map[string]any{"Contact": m})
}

// optional adds the fields a contact may lack.
func optional(m map[string]any, c Contact) {
	if !c.DisconnectTimestamp.IsZero() {
		m["DisconnectTimestamp"] = epoch(c.DisconnectTimestamp)
	}
	if c.InitialContactID != "" {
		m["InitialContactId"] = c.InitialContactID
	}
	if c.PreviousContactID != "" {
		m["PreviousContactId"] = c.PreviousContactID
	}
	if c.AgentID != "" {
		agent := map[string]any{"Id": c.AgentID}
		if !c.ConnectedToAgent.IsZero() {
			agent["ConnectedToAgentTimestamp"] = epoch(c.ConnectedToAgent)
		}
		m["AgentInfo"] = agent
	}
	if c.QueueID != "" {
		queue := map[string]any{"Id": c.QueueID}
		if !c.EnqueueTimestamp.IsZero() {
			queue["EnqueueTimestamp"] = epoch(c.EnqueueTimestamp)
		}
		m["QueueInfo"] = queue
	}
}

func (s *Server) contactARN(id string) string {
	return "arn:aws:connect:" + s.dir.Region + ":" + s.dir.Account + ":instance/" + s.dir.InstanceID + "/contact/" + id
}

func fromEpoch(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
}
