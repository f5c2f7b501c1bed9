package fakecognito

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PoolOptions describes a pool made by CreatePool.
type PoolOptions struct {
	Name string // default: the id
	// UsernameAttributes ("email", "phone_number") and AliasAttributes
	// ("email", "phone_number", "preferred_username"): with "email" in
	// either, admin calls accept the email as Username.
	UsernameAttributes []string
	AliasAttributes    []string
	// CaseInsensitive pools match usernames regardless of case.
	CaseInsensitive bool
}

// User is a user as tests seed and inspect it.
type User struct {
	Username string
	Sub      string // a UUID; generated when empty
	Email    string
	// Attributes holds every other attribute (name, custom:dept, ...).
	Attributes map[string]string
	Disabled   bool
	Status     string    // UserStatus; default CONFIRMED
	Created    time.Time // default: the fake's now
	Modified   time.Time // default: Created
	Groups     []string  // created in the pool when missing
	// Revocations counts token revocations (global sign-outs and disables);
	// it is ignored by AddUser.
	Revocations int
}

// CreatePool adds an empty pool with the given id.
func (s *Server) CreatePool(id string, opts PoolOptions) error {
	if !validPoolID(id) {
		return fmt.Errorf("create pool: invalid pool id %q", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pools[id] != nil {
		return fmt.Errorf("create pool: %s already exists", id)
	}
	s.pools[id] = newPool(id, opts, s.nowMillis())
	return nil
}

// AddUser adds a user to an existing pool, bypassing faults and quotas.
func (s *Server) AddUser(poolID string, su User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pools[poolID]
	if p == nil {
		return fmt.Errorf("add user: pool %s does not exist", poolID)
	}
	return s.addUser(p, su)
}

// addUser is AddUser for a known pool; the caller holds s.mu.
func (s *Server) addUser(p *pool, su User) error {
	if !validName(su.Username) {
		return fmt.Errorf("add user: invalid username %q", su.Username)
	}
	u := &user{username: su.Username, email: su.Email, enabled: !su.Disabled}
	if su.Sub == "" {
		u.sub = s.newSub(p)
	} else {
		var ok bool
		if u.sub, ok = parseUUID(su.Sub); !ok {
			return fmt.Errorf("add user %s: sub %q is not a UUID", su.Username, su.Sub)
		}
	}
	status := su.Status
	if status == "" {
		status = "CONFIRMED"
	}
	var ok bool
	if u.status, ok = statusIndex(status); !ok {
		return fmt.Errorf("add user %s: unknown status %q", su.Username, su.Status)
	}
	created := su.Created
	if created.IsZero() {
		created = s.Now()
	}
	modified := su.Modified
	if modified.IsZero() {
		modified = created
	}
	u.created, u.modified = toMillis(created), toMillis(modified)
	// Sorted so that the same seed gives the same attribute order.
	for _, name := range slices.Sorted(maps.Keys(su.Attributes)) {
		if name == "sub" || name == "email" {
			return fmt.Errorf("add user %s: set %s with its own field", su.Username, name)
		}
		p.setAttrUnindexed(u, name, su.Attributes[name])
	}
	for _, name := range su.Groups {
		if !validName(name) {
			return fmt.Errorf("add user %s: invalid group name %q", su.Username, name)
		}
	}
	if e := p.conflict(u); e != nil {
		return fmt.Errorf("add user %s: %s", su.Username, e.message)
	}
	p.insert(u)
	for _, name := range su.Groups {
		g := p.groups[name]
		if g == nil {
			g = &group{name: name, created: u.created, modified: u.created, members: map[*user]struct{}{}}
			p.groups[name] = g
		}
		addToGroup(u, g)
	}
	return nil
}

func snapshot(u *user) User {
	su := User{
		Username:    u.username,
		Sub:         formatUUID(u.sub),
		Email:       u.email,
		Disabled:    !u.enabled,
		Status:      statuses[u.status],
		Created:     fromMillis(u.created),
		Modified:    fromMillis(u.modified),
		Revocations: int(u.gen),
	}
	if len(u.attrs) > 0 {
		su.Attributes = make(map[string]string, len(u.attrs))
		for _, a := range u.attrs {
			su.Attributes[a.name] = a.value
		}
	}
	if len(u.groups) > 0 {
		su.Groups = u.groupNames()
	}
	return su
}

// User returns a copy of the user that an admin call naming username (the
// username, sub, or email where the pool allows) would reach.
func (s *Server) User(poolID, username string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pools[poolID]
	if p == nil {
		return User{}, false
	}
	u := p.find(username)
	if u == nil {
		return User{}, false
	}
	return snapshot(u), true
}

// Users returns copies of every user of the pool, in creation order.
func (s *Server) Users(poolID string) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pools[poolID]
	if p == nil {
		return nil
	}
	out := make([]User, 0, p.count())
	for _, u := range p.order {
		if !u.deleted {
			out = append(out, snapshot(u))
		}
	}
	return out
}

// UserCount returns the number of users in the pool (0 for an unknown pool).
func (s *Server) UserCount(poolID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pools[poolID]; p != nil {
		return p.count()
	}
	return 0
}

// csvColumns are the seed file's columns; user_pool_id and username are
// required, the others optional and in any order.
var csvColumns = []string{"user_pool_id", "username", "email", "sub", "enabled", "status", "created", "modified", "groups"}

// LoadCSV adds the users of a seed file, one record at a time. Columns:
// user_pool_id, username, email, sub, enabled (true/false, default true),
// status (default CONFIRMED), created and modified (RFC 3339, default now and
// created), groups (semicolon separated). Pools it has not seen are created.
func (s *Server) LoadCSV(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("read seed header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if slices.Contains(csvColumns, h) {
			col[h] = i
		}
	}
	for _, need := range []string{"user_pool_id", "username"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("read seed header: no %s column", need)
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read seed: %w", err)
		}
		line, _ := cr.FieldPos(0)
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		su, poolID, err := seedUser(field)
		if err != nil {
			return fmt.Errorf("seed line %d: %w", line, err)
		}
		if err := s.seed(poolID, su); err != nil {
			return fmt.Errorf("seed line %d: %w", line, err)
		}
	}
}

func seedUser(field func(string) string) (User, string, error) {
	su := User{
		Username: field("username"),
		Email:    field("email"),
		Sub:      field("sub"),
		Status:   field("status"),
	}
	if v := field("enabled"); v != "" {
		enabled, err := strconv.ParseBool(v)
		if err != nil {
			return User{}, "", fmt.Errorf("enabled %q: want true or false", v)
		}
		su.Disabled = !enabled
	}
	for _, c := range []struct {
		name string
		dst  *time.Time
	}{{"created", &su.Created}, {"modified", &su.Modified}} {
		if v := field(c.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return User{}, "", fmt.Errorf("%s: %w", c.name, err)
			}
			*c.dst = t
		}
	}
	for g := range strings.SplitSeq(field("groups"), ";") {
		if g = strings.TrimSpace(g); g != "" {
			su.Groups = append(su.Groups, g)
		}
	}
	return su, field("user_pool_id"), nil
}

// seed adds a user, creating its pool if needed.
func (s *Server) seed(poolID string, su User) error {
	if !validPoolID(poolID) {
		return fmt.Errorf("invalid pool id %q", poolID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pools[poolID]
	if p == nil {
		p = newPool(poolID, PoolOptions{}, s.nowMillis())
		s.pools[poolID] = p
	}
	return s.addUser(p, su)
}

// DeleteGroup removes a group from a pool and from its members, as
// DeleteGroup does (a restore then meets a group that is gone).
func (s *Server) DeleteGroup(poolID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pools[poolID]
	if p == nil || p.groups[name] == nil {
		return fmt.Errorf("delete group: no group %s in %s", name, poolID)
	}
	g := p.groups[name]
	for u := range g.members {
		u.groups = slices.DeleteFunc(u.groups, func(x *group) bool { return x == g })
	}
	delete(p.groups, name)
	return nil
}
