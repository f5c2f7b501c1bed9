package fakecognito

import (
	"encoding/hex"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// pool is one user pool. Users are indexed by username (folded when the pool
// is case-insensitive), by sub, and by email when email is a username or
// alias attribute; order keeps them by creation for stable pagination.
type pool struct {
	id              string
	name            string
	usernameAttrs   []string
	aliasAttrs      []string
	caseInsensitive bool
	created         int64 // unix ms
	modified        int64

	byName  map[string]*user
	bySub   map[[16]byte]*user
	byEmail map[string]*user // nil unless email identifies users
	order   []*user          // ascending seq; deleted users linger until compaction
	dead    int
	nextSeq uint64
	groups  map[string]*group
}

// user is kept small on purpose: a million of them must fit comfortably.
// Sub and email live outside attrs because they are indexed.
type user struct {
	username string
	email    string
	attrs    []attr
	groups   []*group
	created  int64 // unix ms
	modified int64
	seq      uint64
	sub      [16]byte
	gen      uint32 // bumped on every token revocation
	status   uint8
	enabled  bool
	deleted  bool
}

type attr struct{ name, value string }

type group struct {
	name        string
	description string
	precedence  *int32
	roleArn     string
	created     int64
	modified    int64
	members     map[*user]struct{}
}

// statuses are the UserStatus values; user.status indexes this table.
var statuses = []string{
	"CONFIRMED", "UNCONFIRMED", "ARCHIVED", "COMPROMISED", "UNKNOWN",
	"RESET_REQUIRED", "FORCE_CHANGE_PASSWORD", "EXTERNAL_PROVIDER",
}

func statusIndex(s string) (uint8, bool) {
	i := slices.Index(statuses, s)
	return uint8(i), i >= 0
}

const statusForceChange = 6

// standardAttrs are the attributes every pool's schema has; others must carry
// the custom: prefix.
var standardAttrs = map[string]bool{
	"address": true, "birthdate": true, "email": true, "email_verified": true, "family_name": true,
	"gender": true, "given_name": true, "locale": true, "middle_name": true, "name": true,
	"nickname": true, "phone_number": true, "phone_number_verified": true, "picture": true,
	"preferred_username": true, "profile": true, "updated_at": true, "website": true,
	"zoneinfo": true, "sub": true,
}

func knownAttr(name string) bool {
	return standardAttrs[name] || (strings.HasPrefix(name, "custom:") && len(name) > len("custom:"))
}

var (
	poolIDPattern   = regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`)
	usernamePattern = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`)
	poolNamePattern = regexp.MustCompile(`^[\w\s+=,.@-]+$`)
)

func validPoolID(id string) bool {
	return len(id) >= 1 && len(id) <= 55 && poolIDPattern.MatchString(id)
}

// validName checks the pattern Username and GroupName share.
func validName(s string) bool {
	n := utf8.RuneCountInString(s)
	return n >= 1 && n <= 128 && usernamePattern.MatchString(s)
}

func checkPoolID(id string) *apiError {
	if id == "" {
		return errNull("userPoolId")
	}
	if !validPoolID(id) {
		return errInvalid("1 validation error detected: Value '%s' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+", id)
	}
	return nil
}

// checkUsername does not echo the value: the service treats usernames as
// sensitive in validation messages.
func checkUsername(name string) *apiError {
	if name == "" {
		return errNull("username")
	}
	if !validName(name) {
		return errInvalid("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+")
	}
	return nil
}

func newPool(id string, opts PoolOptions, now int64) *pool {
	p := &pool{
		id:              id,
		name:            opts.Name,
		usernameAttrs:   slices.Clone(opts.UsernameAttributes),
		aliasAttrs:      slices.Clone(opts.AliasAttributes),
		caseInsensitive: opts.CaseInsensitive,
		created:         now,
		modified:        now,
		byName:          map[string]*user{},
		bySub:           map[[16]byte]*user{},
		groups:          map[string]*group{},
	}
	if p.name == "" {
		p.name = id
	}
	if slices.Contains(p.usernameAttrs, "email") || slices.Contains(p.aliasAttrs, "email") {
		p.byEmail = map[string]*user{}
	}
	return p
}

func (p *pool) key(username string) string {
	if p.caseInsensitive {
		return strings.ToLower(username)
	}
	return username
}

// emailIsUsername reports whether users sign up with their email instead of a
// username, in which case Cognito makes the sub their username.
func (p *pool) emailIsUsername() bool { return slices.Contains(p.usernameAttrs, "email") }

// find resolves what an admin call accepts as Username: the username, the
// sub, or an email when email identifies users in this pool.
func (p *pool) find(name string) *user {
	if u := p.byName[p.key(name)]; u != nil {
		return u
	}
	if sub, ok := parseUUID(name); ok {
		if u := p.bySub[sub]; u != nil {
			return u
		}
	}
	if p.byEmail != nil {
		if u := p.byEmail[strings.ToLower(name)]; u != nil {
			return u
		}
	}
	return nil
}

// insert adds u, which must not collide (the caller checked).
func (p *pool) insert(u *user) {
	u.seq = p.nextSeq
	p.nextSeq++
	p.byName[p.key(u.username)] = u
	p.bySub[u.sub] = u
	if p.byEmail != nil && u.email != "" {
		p.byEmail[strings.ToLower(u.email)] = u
	}
	p.order = append(p.order, u)
}

// conflict says why u cannot be added, or nil.
func (p *pool) conflict(u *user) *apiError {
	if p.byName[p.key(u.username)] != nil {
		return clientErr(codeUsernameExists, "User account already exists")
	}
	if p.bySub[u.sub] != nil {
		return clientErr(codeUsernameExists, "User account already exists")
	}
	if p.byEmail != nil && u.email != "" && p.byEmail[strings.ToLower(u.email)] != nil {
		return clientErr(codeUsernameExists, "An account with the given email already exists.")
	}
	return nil
}

func (p *pool) remove(u *user) {
	delete(p.byName, p.key(u.username))
	delete(p.bySub, u.sub)
	p.unindexEmail(u)
	for _, g := range u.groups {
		delete(g.members, u)
	}
	u.groups = nil
	u.deleted = true
	p.dead++
	// Compact once most of order is dead; pagination tokens carry a seq,
	// not an index, so they survive this.
	if p.dead > 1024 && p.dead*2 > len(p.order) {
		live := make([]*user, 0, len(p.order)-p.dead)
		for _, v := range p.order {
			if !v.deleted {
				live = append(live, v)
			}
		}
		p.order, p.dead = live, 0
	}
}

func (p *pool) unindexEmail(u *user) {
	if p.byEmail != nil && u.email != "" && p.byEmail[strings.ToLower(u.email)] == u {
		delete(p.byEmail, strings.ToLower(u.email))
	}
}

func (p *pool) count() int { return len(p.order) - p.dead }

// from returns the position in order of the first user with seq >= seq.
func (p *pool) from(seq uint64) int {
	return sort.Search(len(p.order), func(i int) bool { return p.order[i].seq >= seq })
}

func (p *pool) arn(account string) string {
	region, _, _ := strings.Cut(p.id, "_")
	return "arn:aws:cognito-idp:" + region + ":" + account + ":userpool/" + p.id
}

// getAttr returns a user attribute by name, sub and email included.
func (u *user) getAttr(name string) (string, bool) {
	switch name {
	case "sub":
		return formatUUID(u.sub), true
	case "email":
		return u.email, u.email != ""
	}
	for _, a := range u.attrs {
		if a.name == name {
			return a.value, true
		}
	}
	return "", false
}

func (p *pool) deleteAttr(u *user, name string) {
	if name == "email" {
		p.unindexEmail(u)
		u.email = ""
		return
	}
	u.attrs = slices.DeleteFunc(u.attrs, func(a attr) bool { return a.name == name })
	if len(u.attrs) == 0 {
		u.attrs = nil
	}
}

// attributes lists the user's attributes as the API returns them, sub first.
// A nil want means all; otherwise only the named ones.
func (u *user) attributes(want []string) []attrJSON {
	out := make([]attrJSON, 0, 2+len(u.attrs))
	add := func(name, value string) {
		if want == nil || slices.Contains(want, name) {
			out = append(out, attrJSON{Name: name, Value: value})
		}
	}
	add("sub", formatUUID(u.sub))
	if u.email != "" {
		add("email", u.email)
	}
	for _, a := range u.attrs {
		add(a.name, a.value)
	}
	return out
}

func (u *user) revoke() { u.gen++ }

func (u *user) groupNames() []string {
	names := make([]string, 0, len(u.groups))
	for _, g := range u.groups {
		names = append(names, g.name)
	}
	sort.Strings(names)
	return names
}

func addToGroup(u *user, g *group) {
	if _, ok := g.members[u]; ok {
		return
	}
	g.members[u] = struct{}{}
	u.groups = append(u.groups, g)
}

func formatUUID(b [16]byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], b[10:])
	return string(buf[:])
}

func parseUUID(s string) ([16]byte, bool) {
	var b [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return b, false
	}
	return b, true
}

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
