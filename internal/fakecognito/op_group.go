package fakecognito

// The group operations: CreateGroup, AdminAddUserToGroup, ListUsersInGroup,
// AdminListGroupsForUser.

import (
	"slices"
	"sort"
)

type groupJSON struct {
	GroupName        string `json:"GroupName"`
	UserPoolId       string `json:"UserPoolId"`
	Description      string `json:"Description,omitempty"`
	RoleArn          string `json:"RoleArn,omitempty"`
	Precedence       *int32 `json:"Precedence,omitempty"`
	CreationDate     epoch  `json:"CreationDate"`
	LastModifiedDate epoch  `json:"LastModifiedDate"`
}

func groupOut(poolID string, g *group) groupJSON {
	return groupJSON{
		GroupName: g.name, UserPoolId: poolID, Description: g.description, RoleArn: g.roleArn,
		Precedence: g.precedence, CreationDate: epoch(g.created), LastModifiedDate: epoch(g.modified),
	}
}

func (s *Server) createGroup(body []byte) (any, *apiError) {
	var req struct {
		GroupName   string `json:"GroupName"`
		UserPoolId  string `json:"UserPoolId"`
		Description string `json:"Description"`
		RoleArn     string `json:"RoleArn"`
		Precedence  *int32 `json:"Precedence"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if e := checkGroupName(req.GroupName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.lookupPool(req.UserPoolId)
	if e != nil {
		return nil, e
	}
	if p.groups[req.GroupName] != nil {
		return nil, clientErr(codeGroupExists, "A group with the name %s already exists.", req.GroupName)
	}
	now := s.nowMillis()
	g := &group{
		name: req.GroupName, description: req.Description, roleArn: req.RoleArn, precedence: req.Precedence,
		created: now, modified: now, members: map[*user]struct{}{},
	}
	p.groups[g.name] = g
	return struct {
		Group groupJSON `json:"Group"`
	}{groupOut(p.id, g)}, nil
}

func checkGroupName(name string) *apiError {
	if name == "" {
		return errNull("groupName")
	}
	if !validName(name) {
		return errInvalid("1 validation error detected: Value '%s' at 'groupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+", name)
	}
	return nil
}

func (s *Server) adminAddUserToGroup(body []byte) (any, *apiError) {
	var req struct {
		UserPoolId string `json:"UserPoolId"`
		Username   string `json:"Username"`
		GroupName  string `json:"GroupName"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if e := checkGroupName(req.GroupName); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, u, e := s.lookupUser(req.UserPoolId, req.Username)
	if e != nil {
		return nil, e
	}
	g := p.groups[req.GroupName]
	if g == nil {
		return nil, errGroupNotFound()
	}
	addToGroup(u, g)
	return nil, nil
}

func (s *Server) listUsersInGroup(body []byte) (any, *apiError) {
	var req struct {
		UserPoolId string  `json:"UserPoolId"`
		GroupName  string  `json:"GroupName"`
		Limit      *int32  `json:"Limit"`
		NextToken  *string `json:"NextToken"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if e := checkGroupName(req.GroupName); e != nil {
		return nil, e
	}
	limit, e := checkLimit(req.Limit)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.lookupPool(req.UserPoolId)
	if e != nil {
		return nil, e
	}
	g := p.groups[req.GroupName]
	if g == nil {
		return nil, errGroupNotFound()
	}
	scope := "ListUsersInGroup\x00" + p.id + "\x00" + g.name
	var start uint64
	if req.NextToken != nil && *req.NextToken != "" {
		if start, e = parsePageToken(*req.NextToken, scope); e != nil {
			return nil, e
		}
	}
	members := make([]*user, 0, len(g.members))
	for u := range g.members {
		if u.seq >= start {
			members = append(members, u)
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].seq < members[j].seq })
	type page struct {
		Users     []userJSON `json:"Users"`
		NextToken string     `json:"NextToken,omitempty"`
	}
	out := page{Users: []userJSON{}}
	for i, u := range members {
		if i == limit {
			out.NextToken = pageToken(scope, u.seq)
			break
		}
		out.Users = append(out.Users, userOut(u, nil))
	}
	return out, nil
}

func (s *Server) adminListGroupsForUser(body []byte) (any, *apiError) {
	var req struct {
		UserPoolId string  `json:"UserPoolId"`
		Username   string  `json:"Username"`
		Limit      *int32  `json:"Limit"`
		NextToken  *string `json:"NextToken"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	limit, e := checkLimit(req.Limit)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, u, e := s.lookupUser(req.UserPoolId, req.Username)
	if e != nil {
		return nil, e
	}
	scope := "AdminListGroupsForUser\x00" + p.id + "\x00" + formatUUID(u.sub)
	var start uint64
	if req.NextToken != nil && *req.NextToken != "" {
		if start, e = parsePageToken(*req.NextToken, scope); e != nil {
			return nil, e
		}
	}
	groups := slices.Clone(u.groups)
	sort.Slice(groups, func(i, j int) bool { return groups[i].name < groups[j].name })
	type page struct {
		Groups    []groupJSON `json:"Groups"`
		NextToken string      `json:"NextToken,omitempty"`
	}
	out := page{Groups: []groupJSON{}}
	for i := int(min(start, uint64(len(groups)))); i < len(groups); i++ {
		if len(out.Groups) == limit {
			out.NextToken = pageToken(scope, uint64(i))
			break
		}
		out.Groups = append(out.Groups, groupOut(p.id, groups[i]))
	}
	return out, nil
}
