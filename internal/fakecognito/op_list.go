package fakecognito

// ListUsers and the paging that the list operations share.

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// maxLimit is the service's cap on a page of users or groups.
const maxLimit = 60

func checkLimit(limit *int32) (int, *apiError) {
	if limit == nil || *limit == 0 {
		return maxLimit, nil
	}
	if *limit < 0 || *limit > maxLimit {
		return 0, errInvalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to %d", *limit, maxLimit)
	}
	return int(*limit), nil
}

// Page tokens are opaque to clients; they carry a position and the scope
// they belong to, so a token from another pool or listing is refused.
func pageToken(scope string, n uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + "\x00" + strconv.FormatUint(n, 10)))
}

func parsePageToken(tok, scope string) (uint64, *apiError) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, errInvalid(msgPaginationTokenBad)
	}
	i := strings.LastIndexByte(string(raw), 0)
	if i < 0 || string(raw[:i]) != scope {
		return 0, errInvalid(msgPaginationTokenBad)
	}
	n, err := strconv.ParseUint(string(raw[i+1:]), 10, 64)
	if err != nil {
		return 0, errInvalid(msgPaginationTokenBad)
	}
	return n, nil
}

func (s *Server) listUsers(body []byte) (any, *apiError) {
	var req struct {
		UserPoolId      string    `json:"UserPoolId"`
		AttributesToGet *[]string `json:"AttributesToGet"`
		Limit           *int32    `json:"Limit"`
		PaginationToken *string   `json:"PaginationToken"`
		Filter          string    `json:"Filter"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if e := checkPoolID(req.UserPoolId); e != nil {
		return nil, e
	}
	limit, e := checkLimit(req.Limit)
	if e != nil {
		return nil, e
	}
	f, e := parseFilter(req.Filter)
	if e != nil {
		return nil, e
	}
	var want []string
	if req.AttributesToGet != nil {
		want = *req.AttributesToGet
		if want == nil {
			want = []string{}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.lookupPool(req.UserPoolId)
	if e != nil {
		return nil, e
	}
	scope := "ListUsers\x00" + p.id + "\x00" + req.Filter
	var start uint64
	if req.PaginationToken != nil && *req.PaginationToken != "" {
		if start, e = parsePageToken(*req.PaginationToken, scope); e != nil {
			return nil, e
		}
	}
	type page struct {
		Users           []userJSON `json:"Users"`
		PaginationToken string     `json:"PaginationToken,omitempty"`
	}
	out := page{Users: []userJSON{}}
	if u, indexed := f.lookup(p); indexed {
		if u != nil && u.seq >= start {
			out.Users = append(out.Users, userOut(u, want))
		}
		return out, nil
	}
	for i := p.from(start); i < len(p.order); i++ {
		u := p.order[i]
		if u.deleted || !f.match(p, u) {
			continue
		}
		if len(out.Users) == limit {
			out.PaginationToken = pageToken(scope, u.seq)
			break
		}
		out.Users = append(out.Users, userOut(u, want))
	}
	return out, nil
}
