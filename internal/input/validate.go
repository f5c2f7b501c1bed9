package input

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits from the Cognito API reference and RFC 5321.
const (
	maxUsername = 128
	maxPoolID   = 55
	maxEmail    = 254
	maxLocal    = 64
)

// ValidUsername checks s against Cognito's Username constraint: 1 to 128
// characters matching [\p{L}\p{M}\p{S}\p{N}\p{P}]+, so no spaces, control or
// format characters.
func ValidUsername(s string) error {
	if s == "" {
		return errors.New("username is empty")
	}
	pos := 0
	for i, r := range s {
		pos++
		switch {
		case r == utf8.RuneError && isInvalidAt(s, i):
			return fmt.Errorf("username is not valid UTF-8 at position %d", pos)
		case pos > maxUsername:
			return fmt.Errorf("username is longer than %d characters", maxUsername)
		case unicode.IsSpace(r):
			return fmt.Errorf("username has a space at position %d", pos)
		case unicode.IsControl(r):
			return fmt.Errorf("username has a control character at position %d", pos)
		case !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P):
			return fmt.Errorf("username has a character that is not allowed at position %d (U+%04X)", pos, r)
		}
	}
	return nil
}

// isInvalidAt tells a real U+FFFD from a byte that is not UTF-8.
func isInvalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 1
}

// ValidPoolID checks s against Cognito's UserPoolId constraint: 1 to 55
// characters matching [\w-]+_[0-9a-zA-Z]+ (\w being ASCII letters, digits
// and underscore), such as us-east-1_AbC123.
func ValidPoolID(s string) error {
	if s == "" {
		return errors.New("user pool id is empty")
	}
	if len(s) > maxPoolID {
		return fmt.Errorf("user pool id is longer than %d characters", maxPoolID)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isASCIIAlnum(c) && c != '_' && c != '-' {
			return fmt.Errorf("user pool id has a character that is not allowed at position %d", i+1)
		}
	}
	// The suffix cannot hold an underscore, so it starts after the last one.
	us := strings.LastIndexByte(s, '_')
	switch {
	case us < 0:
		return errors.New("user pool id has no underscore (want region_id, e.g. us-east-1_AbC123)")
	case us == 0:
		return errors.New("user pool id has nothing before the underscore (want region_id, e.g. us-east-1_AbC123)")
	case us == len(s)-1:
		return errors.New("user pool id has nothing after the underscore (want region_id, e.g. us-east-1_AbC123)")
	}
	if i := strings.IndexByte(s[us+1:], '-'); i >= 0 {
		return fmt.Errorf("user pool id has a hyphen after the underscore at position %d", us+2+i)
	}
	return nil
}

// PoolRegion is the region part of a pool id, the text before its first
// underscore ("us-east-1" for us-east-1_AbC123), or "" when there is none.
func PoolRegion(id string) string {
	region, _, ok := strings.Cut(id, "_")
	if !ok {
		return ""
	}
	return region
}

// ValidEmail is a deliberately plain check: one @, a local part of 1 to 64
// characters and a domain with a dot and no empty label, at most 254
// characters in all, no spaces, control characters, double quotes or the
// other characters that only quoted local parts may hold. An apostrophe is
// allowed (o'brien@example.com is common). Cognito decides the rest.
func ValidEmail(s string) error {
	if s == "" {
		return errors.New("email is empty")
	}
	if len(s) > maxEmail {
		return fmt.Errorf("email is longer than %d characters", maxEmail)
	}
	if !utf8.ValidString(s) {
		return errors.New("email is not valid UTF-8")
	}
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case unicode.IsSpace(r):
			return fmt.Errorf("email has a space at position %d", pos)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return fmt.Errorf("email has a control character at position %d", pos)
		case strings.ContainsRune(`"(),:;<>[\]`, r):
			return fmt.Errorf("email has a character that is not allowed at position %d (%c)", pos, r)
		}
	}
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case !ok:
		return errors.New("email has no @")
	case strings.Contains(domain, "@"):
		return errors.New("email has more than one @")
	case local == "":
		return errors.New("email has nothing before the @")
	case len(local) > maxLocal:
		return fmt.Errorf("email has more than %d characters before the @", maxLocal)
	case domain == "":
		return errors.New("email has nothing after the @")
	case !strings.Contains(domain, "."):
		return errors.New("email domain has no dot")
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return errors.New("email domain has an empty label")
	}
	return nil
}

// ValidSub checks that s is a UUID in its text form, 8-4-4-4-12 hex digits
// (either case), as Cognito's sub attribute is.
func ValidSub(s string) error {
	const want = "sub is not a UUID (want 8-4-4-4-12 hex digits)"
	if s == "" {
		return errors.New("sub is empty")
	}
	if len(s) != 36 {
		return errors.New(want)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return errors.New(want)
			}
			continue
		}
		if !isHex(c) {
			return errors.New(want)
		}
	}
	return nil
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
