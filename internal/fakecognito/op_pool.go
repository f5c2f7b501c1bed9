package fakecognito

// The user-pool operations: CreateUserPool, DescribeUserPool.

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
