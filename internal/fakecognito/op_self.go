package fakecognito

// The operations a user makes with its own access token: DeleteUser,
// DeleteUserAttributes.

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
