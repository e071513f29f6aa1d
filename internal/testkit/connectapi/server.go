package connectapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Server answers ListUsers and DescribeUser for one directory, and
// SearchContacts and DescribeContact for its instance's contacts.
type Server struct {
	dir *Directory
	// dirs are the instances served, dir's included, by instance ID.
	dirs map[string]*Directory
	// denied are the operations the role may not call.
	deniedMu sync.Mutex
	denied   map[string]bool
	contacts *Contacts
	limiter  *rate.Limiter
	// accessKey and secretKey are the one key requests must be signed
	// with (WithCredentials).
	accessKey, secretKey string

	// Calls counts requests by operation, throttled ones included.
	ListCalls            atomic.Int64
	DescribeCalls        atomic.Int64
	SearchUsersCalls     atomic.Int64
	SearchCalls          atomic.Int64
	DescribeContactCalls atomic.Int64
	Throttled            atomic.Int64
	// Refused counts requests answered 403 for their signature.
	Refused atomic.Int64
}

// NewServer serves dir. perSecond > 0 throttles all requests to that rate
// with the given burst, answering the excess 429 as Connect does.
func NewServer(dir *Directory, perSecond float64, burst int) *Server {
	s := &Server{dir: dir, dirs: map[string]*Directory{dir.InstanceID: dir}, contacts: NewContacts(), denied: map[string]bool{},
		limiter: rate.NewLimiter(rate.Inf, 1), accessKey: DefaultAccessKey, secretKey: DefaultSecretKey}
	if perSecond > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return s
}

// WithDirectory serves another instance's users too, from dir, under its
// InstanceID: a tenant with several instances.
func (s *Server) WithDirectory(dir *Directory) *Server {
	s.dirs[dir.InstanceID] = dir
	return s
}

// WithSearchUsers(false) answers SearchUsers 403 AccessDeniedException, as
// Connect does for a role whose policy lacks connect:SearchUsers;
// WithSearchUsers(true), the default, serves it.
func (s *Server) WithSearchUsers(allowed bool) *Server {
	if allowed {
		return s.WithAllowed("SearchUsers")
	}
	return s.WithDenied("SearchUsers")
}

// WithDenied answers the named operations (ListUsers, DescribeUser,
// SearchUsers, SearchContacts, DescribeContact) 403 AccessDeniedException,
// as Connect does for a role whose policy leaves them out.
func (s *Server) WithDenied(operations ...string) *Server {
	s.deniedMu.Lock()
	defer s.deniedMu.Unlock()
	for _, op := range operations {
		s.denied[op] = true
	}
	return s
}

// WithAllowed takes back WithDenied for the named operations.
func (s *Server) WithAllowed(operations ...string) *Server {
	s.deniedMu.Lock()
	defer s.deniedMu.Unlock()
	for _, op := range operations {
		delete(s.denied, op)
	}
	return s
}

// refused answers 403 for an operation the role may not call.
func (s *Server) refused(w http.ResponseWriter, operation string) bool {
	s.deniedMu.Lock()
	denied := s.denied[operation]
	s.deniedMu.Unlock()
	if !denied {
		return false
	}
	apiError(w, http.StatusForbidden, "AccessDeniedException",
		"User: arn:aws:sts::111122223333:assumed-role/ConnectIngestRole/connect-ingest is not authorized to perform: connect:"+operation)
	return true
}

// WithContacts serves contacts as the instance's contacts.
func (s *Server) WithContacts(contacts *Contacts) *Server {
	s.contacts = contacts
	return s
}

// Handler routes Connect's REST paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users-summary/{instance}", s.listUsers)
	mux.HandleFunc("GET /users/{instance}/{user}", s.describeUser)
	mux.HandleFunc("POST /search-users", s.searchUsers)
	mux.HandleFunc("POST /search-contacts", s.searchContacts)
	mux.HandleFunc("GET /contacts/{instance}/{contact}", s.describeContact)
	return s.authenticate(mux)
}

// maxPage is ListUsers' largest page, as Connect documents it.
const maxPage = 1000

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	s.ListCalls.Add(1)
	if s.refused(w, "ListUsers") {
		return
	}
	dir, ok := s.directory(w, r.PathValue("instance"))
	if !s.admit(w) || !ok {
		return
	}
	size := maxPage
	if v := r.URL.Query().Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			apiError(w, http.StatusBadRequest, "InvalidParameterException", "maxResults must be 1 to 1000")
			return
		}
		size = n
	}
	users := dir.List()
	start := 0
	if tok := r.URL.Query().Get("nextToken"); tok != "" {
		// The token is the last ID of the previous page, so a page stays
		// correct while users are added or removed between calls.
		for start < len(users) && users[start].ID <= tok {
			start++
		}
	}
	end := min(start+size, len(users))
	type summary struct {
		Arn                string
		Id                 string
		Username           string
		LastModifiedTime   float64
		LastModifiedRegion string
	}
	out := struct {
		UserSummaryList []summary
		NextToken       *string `json:",omitempty"`
	}{UserSummaryList: []summary{}}
	for _, u := range users[start:end] {
		out.UserSummaryList = append(out.UserSummaryList, summary{
			Arn: dir.ARN(u.ID), Id: u.ID, Username: u.Username, LastModifiedTime: epoch(u.LastModified), LastModifiedRegion: dir.Region,
		})
	}
	if end < len(users) {
		tok := users[end-1].ID
		out.NextToken = &tok
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) describeUser(w http.ResponseWriter, r *http.Request) {
	s.DescribeCalls.Add(1)
	if s.refused(w, "DescribeUser") {
		return
	}
	dir, ok := s.directory(w, r.PathValue("instance"))
	if !s.admit(w) || !ok {
		return
	}
	u, ok := dir.Get(r.PathValue("user"))
	if !ok {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "user not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"User": map[string]any{
		"Arn": dir.ARN(u.ID), "Id": u.ID, "Username": u.Username,
		"IdentityInfo":       map[string]string{"FirstName": u.FirstName, "LastName": u.LastName, "Email": u.Email},
		"PhoneConfig":        map[string]any{"PhoneType": "SOFT_PHONE", "AutoAccept": false, "AfterContactWorkTimeLimit": 60},
		"SecurityProfileIds": u.SecurityProfileIDs, "RoutingProfileId": u.RoutingProfileID,
		"HierarchyGroupId": u.HierarchyGroupID, "Tags": u.Tags,
		"LastModifiedTime": epoch(u.LastModified), "LastModifiedRegion": dir.Region,
	}})
}

// admit applies the API rate, answering 429 ThrottlingException past it.
func (s *Server) admit(w http.ResponseWriter) bool {
	if s.limiter.Allow() {
		return true
	}
	s.Throttled.Add(1)
	apiError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	return false
}

// directory returns the instance's users, or answers 404 as Connect does
// for an instance it does not know.
func (s *Server) directory(w http.ResponseWriter, instanceID string) (*Directory, bool) {
	dir, ok := s.dirs[instanceID]
	if !ok {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "instance not found")
	}
	return dir, ok
}

func epoch(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	writeJSON(w, status, map[string]string{"Message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
