package fakecognito

import (
	"strings"
)

// filter is a parsed ListUsers Filter: `name = "value"` (exact) or
// `name ^= "value"` (prefix). The zero filter matches everyone.
type filter struct {
	attr   string
	prefix bool
	value  string
}

// filterAttrs are the attributes ListUsers can filter on.
var filterAttrs = map[string]bool{
	"username": true, "email": true, "phone_number": true, "name": true, "given_name": true,
	"family_name": true, "preferred_username": true, "sub": true, "cognito:user_status": true,
	"status": true,
}

func errFilter() *apiError { return errInvalid("Error while parsing filter.") }

func parseFilter(s string) (filter, *apiError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return filter{}, nil
	}
	i := 0
	for i < len(s) && (isNameByte(s[i])) {
		i++
	}
	var f filter
	f.attr = s[:i]
	if !filterAttrs[f.attr] {
		return filter{}, errInvalid("Invalid search attribute: %s", f.attr)
	}
	rest := strings.TrimLeft(s[i:], " ")
	switch {
	case strings.HasPrefix(rest, "^="):
		f.prefix, rest = true, rest[2:]
	case strings.HasPrefix(rest, "="):
		rest = rest[1:]
	default:
		return filter{}, errFilter()
	}
	rest = strings.TrimLeft(rest, " ")
	if len(rest) < 2 || rest[0] != '"' {
		return filter{}, errFilter()
	}
	var b strings.Builder
	closed := false
	j := 1
	for ; j < len(rest); j++ {
		c := rest[j]
		if c == '\\' && j+1 < len(rest) {
			j++
			b.WriteByte(rest[j])
			continue
		}
		if c == '"' {
			closed = true
			break
		}
		b.WriteByte(c)
	}
	if !closed || strings.TrimSpace(rest[j+1:]) != "" {
		return filter{}, errFilter()
	}
	f.value = b.String()
	return f, nil
}

func isNameByte(c byte) bool {
	return c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// lookup answers exact username and sub filters from the indexes; indexed is
// false when the filter needs a scan.
func (f filter) lookup(p *pool) (u *user, indexed bool) {
	if f.prefix {
		return nil, false
	}
	switch f.attr {
	case "username":
		return p.byName[p.key(f.value)], true
	case "sub":
		sub, ok := parseUUID(f.value)
		if !ok {
			return nil, true
		}
		return p.bySub[sub], true
	}
	return nil, false
}

func (f filter) match(p *pool, u *user) bool {
	var v string
	switch f.attr {
	case "":
		return true
	case "username":
		v = u.username
		if p.caseInsensitive {
			return f.test(strings.ToLower(v), strings.ToLower(f.value))
		}
	case "cognito:user_status":
		v = statuses[u.status]
	case "status":
		v = "Disabled"
		if u.enabled {
			v = "Enabled"
		}
	default:
		var ok bool
		if v, ok = u.getAttr(f.attr); !ok {
			return false
		}
	}
	return f.test(v, f.value)
}

func (f filter) test(v, want string) bool {
	if f.prefix {
		return strings.HasPrefix(v, want)
	}
	return v == want
}
