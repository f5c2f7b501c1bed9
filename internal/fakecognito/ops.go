package fakecognito

import (
	"encoding/json"
	"strconv"
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
	"AdminCreateUser":           {handle: (*Server).adminCreateUser, category: UserCreation, seeding: true},
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
