package fakecognito

// The Admin* operations on one user, by username.

import "strings"

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

func (s *Server) adminCreateUser(body []byte) (any, *apiError) {
	var req struct {
		UserPoolId     string     `json:"UserPoolId"`
		Username       string     `json:"Username"`
		UserAttributes []attrJSON `json:"UserAttributes"`
		MessageAction  string     `json:"MessageAction"`
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
	switch req.MessageAction {
	case "", "SUPPRESS":
	case "RESEND":
		return s.resendInvitation(req.UserPoolId, req.Username)
	default:
		return nil, errInvalid("1 validation error detected: Value '%s' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]", req.MessageAction)
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
	if req.MessageAction == "" {
		s.countInvitation()
	}
	return struct {
		User userJSON `json:"User"`
	}{userOut(u, nil)}, nil
}

// resendInvitation is AdminCreateUser with MessageAction RESEND: the user
// must exist already, and only the invitation is sent again.
func (s *Server) resendInvitation(poolID, username string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, u, e := s.lookupUser(poolID, username)
	if e != nil {
		return nil, e
	}
	s.countInvitation()
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
