package fakecognito

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// opSpec describes one operation: its handler, its quota category, whether
// it authenticates with an access token instead of IAM, and whether it is a
// seeding call that faults spare by default.
type opSpec struct {
	handle   func(s *Server, body []byte) (any, *apiError)
	category Category
	token    bool
	seeding  bool
}

var operations = map[string]opSpec{
	"CreateUserPool":            {handle: (*Server).createUserPool, seeding: true},
	"DescribeUserPool":          {handle: (*Server).describeUserPool},
	"AdminCreateUser":           {handle: (*Server).adminCreateUser, seeding: true},
	"AdminGetUser":              {handle: (*Server).adminGetUser, category: UserRead},
	"AdminDisableUser":          {handle: (*Server).adminDisableUser, category: UserUpdate},
	"AdminEnableUser":           {handle: (*Server).adminEnableUser, category: UserUpdate},
	"AdminDeleteUser":           {handle: (*Server).adminDeleteUser, category: UserUpdate},
	"AdminUserGlobalSignOut":    {handle: (*Server).adminUserGlobalSignOut, category: UserUpdate},
	"AdminDeleteUserAttributes": {handle: (*Server).adminDeleteUserAttributes, category: UserUpdate},
	"DeleteUser":                {handle: (*Server).deleteUser, category: UserUpdate, token: true},
	"DeleteUserAttributes":      {handle: (*Server).deleteUserAttributes, category: UserUpdate, token: true},
	"ListUsers":                 {handle: (*Server).listUsers, category: UserList},
	"CreateGroup":               {handle: (*Server).createGroup, seeding: true},
	"AdminAddUserToGroup":       {handle: (*Server).adminAddUserToGroup, seeding: true},
	"ListUsersInGroup":          {handle: (*Server).listUsersInGroup, category: UserList},
	"AdminListGroupsForUser":    {handle: (*Server).adminListGroupsForUser},
}

// epoch is a timestamp in unix milliseconds, written as the epoch-seconds
// number awsJson1_1 uses.
type epoch int64

func (e epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(e)/1e3, 'f', -1, 64), nil
}

type attrJSON struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type userJSON struct {
	Username             string     `json:"Username"`
	Attributes           []attrJSON `json:"Attributes"`
	UserCreateDate       epoch      `json:"UserCreateDate"`
	UserLastModifiedDate epoch      `json:"UserLastModifiedDate"`
	Enabled              bool       `json:"Enabled"`
	UserStatus           string     `json:"UserStatus"`
}

func userOut(u *user, want []string) userJSON {
	return userJSON{
		Username:             u.username,
		Attributes:           u.attributes(want),
		UserCreateDate:       epoch(u.created),
		UserLastModifiedDate: epoch(u.modified),
		Enabled:              u.enabled,
		UserStatus:           statuses[u.status],
	}
}

type poolJSON struct {
	Id                     string             `json:"Id"`
	Name                   string             `json:"Name"`
	Arn                    string             `json:"Arn"`
	EstimatedNumberOfUsers int                `json:"EstimatedNumberOfUsers"`
	UsernameAttributes     []string           `json:"UsernameAttributes,omitempty"`
	AliasAttributes        []string           `json:"AliasAttributes,omitempty"`
	UsernameConfiguration  usernameConfigJSON `json:"UsernameConfiguration"`
	CreationDate           epoch              `json:"CreationDate"`
	LastModifiedDate       epoch              `json:"LastModifiedDate"`
	DeletionProtection     string             `json:"DeletionProtection"`
	MfaConfiguration       string             `json:"MfaConfiguration"`
}

type usernameConfigJSON struct {
	CaseSensitive bool `json:"CaseSensitive"`
}

func (s *Server) poolOut(p *pool) poolJSON {
	return poolJSON{
		Id:                     p.id,
		Name:                   p.name,
		Arn:                    p.arn(s.accountID),
		EstimatedNumberOfUsers: p.count(),
		UsernameAttributes:     p.usernameAttrs,
		AliasAttributes:        p.aliasAttrs,
		UsernameConfiguration:  usernameConfigJSON{CaseSensitive: !p.caseInsensitive},
		CreationDate:           epoch(p.created),
		LastModifiedDate:       epoch(p.modified),
		DeletionProtection:     "INACTIVE",
		MfaConfiguration:       "OFF",
	}
}

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

// decode never quotes the body back: it may hold an access token.
func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return clientErr(codeSerialization, msgSerialization)
	}
	return nil
}

// lookupPool finds a pool; the caller holds s.mu.
func (s *Server) lookupPool(id string) (*pool, *apiError) {
	if e := checkPoolID(id); e != nil {
		return nil, e
	}
	p := s.pools[id]
	if p == nil {
		return nil, errPoolNotFound(id)
	}
	return p, nil
}

// lookupUser finds a pool and a user in it; the caller holds s.mu.
func (s *Server) lookupUser(poolID, username string) (*pool, *user, *apiError) {
	if e := checkPoolID(poolID); e != nil {
		return nil, nil, e
	}
	if e := checkUsername(username); e != nil {
		return nil, nil, e
	}
	p, e := s.lookupPool(poolID)
	if e != nil {
		return nil, nil, e
	}
	u := p.find(username)
	if u == nil {
		return nil, nil, errUserNotFound()
	}
	return p, u, nil
}

func (s *Server) nowMillis() int64 { return toMillis(s.Now()) }

type adminUserReq struct {
	UserPoolId string `json:"UserPoolId"`
	Username   string `json:"Username"`
}

// adminUserOp is the shape of the calls that take a pool and a username and
// return {}.
func (s *Server) adminUserOp(body []byte, apply func(p *pool, u *user, now int64)) (any, *apiError) {
	var req adminUserReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, u, e := s.lookupUser(req.UserPoolId, req.Username)
	if e != nil {
		return nil, e
	}
	apply(p, u, s.nowMillis())
	return nil, nil
}

func (s *Server) createUserPool(body []byte) (any, *apiError) {
	var req struct {
		PoolName              string   `json:"PoolName"`
		UsernameAttributes    []string `json:"UsernameAttributes"`
		AliasAttributes       []string `json:"AliasAttributes"`
		UsernameConfiguration *struct {
			CaseSensitive *bool `json:"CaseSensitive"`
		} `json:"UsernameConfiguration"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if req.PoolName == "" {
		return nil, errNull("poolName")
	}
	if len(req.PoolName) > 128 || !poolNamePattern.MatchString(req.PoolName) {
		return nil, errInvalid("1 validation error detected: Value '%s' at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+", req.PoolName)
	}
	if len(req.UsernameAttributes) > 0 && len(req.AliasAttributes) > 0 {
		return nil, errInvalid("Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.")
	}
	for _, a := range req.UsernameAttributes {
		if a != "email" && a != "phone_number" {
			return nil, errInvalid("Username attributes should be either email or phone_number.")
		}
	}
	for _, a := range req.AliasAttributes {
		if a != "email" && a != "phone_number" && a != "preferred_username" {
			return nil, errInvalid("Alias attributes should be email, phone_number or preferred_username.")
		}
	}
	opts := PoolOptions{Name: req.PoolName, UsernameAttributes: req.UsernameAttributes, AliasAttributes: req.AliasAttributes}
	if c := req.UsernameConfiguration; c != nil && c.CaseSensitive != nil {
		opts.CaseInsensitive = !*c.CaseSensitive
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var id string
	for {
		id = s.region + "_" + s.idRand.alnum(9, false)
		if s.pools[id] == nil {
			break
		}
	}
	p := newPool(id, opts, s.nowMillis())
	s.pools[id] = p
	return struct {
		UserPool poolJSON `json:"UserPool"`
	}{s.poolOut(p)}, nil
}

func (s *Server) describeUserPool(body []byte) (any, *apiError) {
	var req struct {
		UserPoolId string `json:"UserPoolId"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.lookupPool(req.UserPoolId)
	if e != nil {
		return nil, e
	}
	return struct {
		UserPool poolJSON `json:"UserPool"`
	}{s.poolOut(p)}, nil
}

func (s *Server) adminCreateUser(body []byte) (any, *apiError) {
	var req struct {
		UserPoolId     string     `json:"UserPoolId"`
		Username       string     `json:"Username"`
		UserAttributes []attrJSON `json:"UserAttributes"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if e := checkPoolID(req.UserPoolId); e != nil {
		return nil, e
	}
	if e := checkUsername(req.Username); e != nil {
		return nil, e
	}
	for _, a := range req.UserAttributes {
		if !knownAttr(a.Name) {
			return nil, errInvalid("Attributes did not conform to the schema: %s: Attribute does not exist in the schema.", a.Name)
		}
		if a.Name == "sub" {
			return nil, errInvalid("Attributes did not conform to the schema: sub: Attribute cannot be updated.")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.lookupPool(req.UserPoolId)
	if e != nil {
		return nil, e
	}
	now := s.nowMillis()
	u := &user{username: req.Username, created: now, modified: now, enabled: true, status: statusForceChange}
	u.sub = s.newSub(p)
	for _, a := range req.UserAttributes {
		p.setAttrUnindexed(u, a.Name, a.Value)
	}
	// A pool that signs users in by email keeps the email as an attribute
	// and names the user by their sub.
	if p.emailIsUsername() {
		if !strings.Contains(req.Username, "@") {
			return nil, errInvalid("Username should be an email.")
		}
		u.email = req.Username
		u.username = formatUUID(u.sub)
	}
	if e := p.conflict(u); e != nil {
		return nil, e
	}
	p.insert(u)
	return struct {
		User userJSON `json:"User"`
	}{userOut(u, nil)}, nil
}

// setAttrUnindexed sets an attribute on a user not yet in the pool.
func (p *pool) setAttrUnindexed(u *user, name, value string) {
	if name == "email" {
		u.email = value
		return
	}
	for i := range u.attrs {
		if u.attrs[i].name == name {
			u.attrs[i].value = value
			return
		}
	}
	u.attrs = append(u.attrs, attr{name, value})
}

// newSub draws a sub not yet used in p; the caller holds s.mu.
func (s *Server) newSub(p *pool) [16]byte {
	for {
		sub := s.idRand.uuidBytes()
		if p.bySub[sub] == nil {
			return sub
		}
	}
}

func (s *Server) adminGetUser(body []byte) (any, *apiError) {
	var req adminUserReq
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, u, e := s.lookupUser(req.UserPoolId, req.Username)
	if e != nil {
		return nil, e
	}
	return struct {
		Username             string     `json:"Username"`
		UserAttributes       []attrJSON `json:"UserAttributes"`
		UserCreateDate       epoch      `json:"UserCreateDate"`
		UserLastModifiedDate epoch      `json:"UserLastModifiedDate"`
		Enabled              bool       `json:"Enabled"`
		UserStatus           string     `json:"UserStatus"`
	}{u.username, u.attributes(nil), epoch(u.created), epoch(u.modified), u.enabled, statuses[u.status]}, nil
}

// adminDisableUser also revokes the user's tokens, as the service does.
func (s *Server) adminDisableUser(body []byte) (any, *apiError) {
	return s.adminUserOp(body, func(_ *pool, u *user, now int64) {
		u.enabled = false
		u.modified = now
		u.revoke()
	})
}

func (s *Server) adminEnableUser(body []byte) (any, *apiError) {
	return s.adminUserOp(body, func(_ *pool, u *user, now int64) {
		u.enabled = true
		u.modified = now
	})
}

func (s *Server) adminDeleteUser(body []byte) (any, *apiError) {
	return s.adminUserOp(body, func(p *pool, u *user, _ int64) { p.remove(u) })
}

func (s *Server) adminUserGlobalSignOut(body []byte) (any, *apiError) {
	return s.adminUserOp(body, func(_ *pool, u *user, _ int64) { u.revoke() })
}

func checkAttrNames(names []string) *apiError {
	if names == nil {
		return errNull("userAttributeNames")
	}
	for _, n := range names {
		if !knownAttr(n) {
			return errInvalid("Attributes did not conform to the schema: %s: Attribute does not exist in the schema.", n)
		}
		if n == "sub" {
			return errInvalid("Cannot modify the non-mutable attribute sub")
		}
	}
	return nil
}

func (s *Server) adminDeleteUserAttributes(body []byte) (any, *apiError) {
	var req struct {
		UserPoolId         string   `json:"UserPoolId"`
		Username           string   `json:"Username"`
		UserAttributeNames []string `json:"UserAttributeNames"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if e := checkAttrNames(req.UserAttributeNames); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, u, e := s.lookupUser(req.UserPoolId, req.Username)
	if e != nil {
		return nil, e
	}
	for _, n := range req.UserAttributeNames {
		p.deleteAttr(u, n)
	}
	u.modified = s.nowMillis()
	return nil, nil
}

func (s *Server) deleteUser(body []byte) (any, *apiError) {
	var req struct {
		AccessToken string `json:"AccessToken"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, u, e := s.authenticate(req.AccessToken)
	if e != nil {
		return nil, e
	}
	p.remove(u)
	return nil, nil
}

func (s *Server) deleteUserAttributes(body []byte) (any, *apiError) {
	var req struct {
		AccessToken        string   `json:"AccessToken"`
		UserAttributeNames []string `json:"UserAttributeNames"`
	}
	if e := decode(body, &req); e != nil {
		return nil, e
	}
	if e := checkAttrNames(req.UserAttributeNames); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, u, e := s.authenticate(req.AccessToken)
	if e != nil {
		return nil, e
	}
	for _, n := range req.UserAttributeNames {
		p.deleteAttr(u, n)
	}
	u.modified = s.nowMillis()
	return nil, nil
}

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
