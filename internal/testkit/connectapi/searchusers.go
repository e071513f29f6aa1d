package connectapi

import (
	"encoding/json"
	"net/http"
)

// maxSearchUsersPage is SearchUsers' largest page, as Connect documents it.
const maxSearchUsersPage = 100

type searchUsersRequest struct {
	InstanceId string
	MaxResults *int
	NextToken  *string
	// SearchCriteria and SearchFilter narrow the search; the stand-in
	// serves the unfiltered search the agent sync asks for and refuses
	// what it does not implement rather than ignore it.
	SearchCriteria json.RawMessage
	SearchFilter   json.RawMessage
}

// searchUsers answers SearchUsers: full user details, 100 a page at most,
// in ID order with a keyset token, as the agent sync reads them.
func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request) {
	s.SearchUsersCalls.Add(1)
	if s.refused(w, "SearchUsers") {
		return
	}
	if !s.admit(w) {
		return
	}
	var req searchUsersRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestException", "the request body is not valid JSON")
		return
	}
	if len(req.SearchCriteria) > 0 && string(req.SearchCriteria) != "null" || len(req.SearchFilter) > 0 && string(req.SearchFilter) != "null" {
		apiError(w, http.StatusBadRequest, "InvalidParameterException", "the stand-in serves unfiltered searches only")
		return
	}
	dir, ok := s.directory(w, req.InstanceId)
	if !ok {
		return
	}
	size := maxSearchUsersPage
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > maxSearchUsersPage {
			apiError(w, http.StatusBadRequest, "InvalidParameterException", "MaxResults must be 1 to 100")
			return
		}
		size = *req.MaxResults
	}
	users := dir.List()
	start := 0
	if req.NextToken != nil && *req.NextToken != "" {
		for start < len(users) && users[start].ID <= *req.NextToken {
			start++
		}
	}
	end := min(start+size, len(users))
	page := make([]map[string]any, 0, end-start)
	for _, u := range users[start:end] {
		// UserSearchSummary: no e-mail address and no LastModifiedTime.
		page = append(page, map[string]any{
			"Arn": dir.ARN(u.ID), "Id": u.ID, "Username": u.Username,
			"IdentityInfo":       map[string]string{"FirstName": u.FirstName, "LastName": u.LastName},
			"PhoneConfig":        map[string]any{"PhoneType": "SOFT_PHONE", "AutoAccept": false, "AfterContactWorkTimeLimit": 60},
			"SecurityProfileIds": u.SecurityProfileIDs, "RoutingProfileId": u.RoutingProfileID,
			"HierarchyGroupId": u.HierarchyGroupID, "Tags": u.Tags,
		})
	}
	out := map[string]any{"Users": page, "ApproximateTotalCount": len(users)}
	if end < len(users) {
		out["NextToken"] = users[end-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}
