package input

import (
	"strings"
	"testing"
)

// checkErr compares an error with a wanted message ("" = no error).
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want %q", want)
	case want != "" && err.Error() != want:
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestValidUsername(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "alice"},
		{name: "email as username", in: "alice+1@example.com"},
		{name: "uuid", in: "4f1c2e7a-1111-4d2b-9c3d-5e6f7a8b9c0d"},
		{name: "letters marks symbols", in: "José_Ñoño€✓"},
		{name: "combining mark", in: "e\u0301"},
		{name: "cjk", in: "用户名"},
		{name: "emoji is a symbol", in: "bob😀"},
		{name: "128 characters", in: strings.Repeat("é", 128)},
		{name: "empty", in: "", want: "username is empty"},
		{name: "129 characters", in: strings.Repeat("a", 129), want: "username is longer than 128 characters"},
		{name: "space", in: "bob smith", want: "username has a space at position 4"},
		{name: "no-break space", in: "bob\u00a0smith", want: "username has a space at position 4"},
		{name: "tab", in: "a\tb", want: "username has a space at position 2"},
		{name: "control", in: "a\x01b", want: "username has a control character at position 2"},
		{name: "zero width space", in: "ab\u200b", want: "username has a character that is not allowed at position 3 (U+200B)"},
		{name: "invalid utf-8", in: "ab\xffc", want: "username is not valid UTF-8 at position 3"},
		{name: "replacement character is a symbol", in: "a\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, ValidUsername(tt.in), tt.want) })
	}
}

func TestValidPoolID(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "aws", in: "us-east-1_AbC123"},
		{name: "cognito-local", in: "local_5aBcD3fG"},
		{name: "underscore in prefix", in: "a_b_c"},
		{name: "55 characters", in: strings.Repeat("a", 53) + "_b"},
		{name: "empty", in: "", want: "user pool id is empty"},
		{name: "56 characters", in: strings.Repeat("a", 54) + "_b", want: "user pool id is longer than 55 characters"},
		{name: "no underscore", in: "useast1AbC", want: "user pool id has no underscore (want region_id, e.g. us-east-1_AbC123)"},
		{name: "nothing before", in: "_AbC", want: "user pool id has nothing before the underscore (want region_id, e.g. us-east-1_AbC123)"},
		{name: "nothing after", in: "us-east-1_", want: "user pool id has nothing after the underscore (want region_id, e.g. us-east-1_AbC123)"},
		{name: "hyphen after", in: "us-east-1_Ab-C", want: "user pool id has a hyphen after the underscore at position 13"},
		{name: "space", in: "us-east-1 _AbC", want: "user pool id has a character that is not allowed at position 10"},
		{name: "non-ascii letter", in: "us-east-1_Äb", want: "user pool id has a character that is not allowed at position 11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, ValidPoolID(tt.in), tt.want) })
	}
}

func TestPoolRegion(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "aws", in: "eu-west-2_AbC123", want: "eu-west-2"},
		{name: "local", in: "local_abc", want: "local"},
		{name: "first underscore", in: "a_b_c", want: "a"},
		{name: "none", in: "abc", want: ""},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PoolRegion(tt.in); got != tt.want {
				t.Errorf("PoolRegion(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "alice@example.com"},
		{name: "plus and dots", in: "a.b+tag@mail.example.co.uk"},
		{name: "apostrophe", in: "o'brien@example.com"},
		{name: "international", in: "josé@exämple.de"},
		{name: "empty", in: "", want: "email is empty"},
		{name: "too long", in: strings.Repeat("a", 60) + "@" + strings.Repeat("b", 190) + ".com", want: "email is longer than 254 characters"},
		{name: "no at", in: "alice.example.com", want: "email has no @"},
		{name: "two at", in: "a@b@example.com", want: "email has more than one @"},
		{name: "empty local", in: "@example.com", want: "email has nothing before the @"},
		{name: "long local", in: strings.Repeat("a", 65) + "@example.com", want: "email has more than 64 characters before the @"},
		{name: "empty domain", in: "alice@", want: "email has nothing after the @"},
		{name: "dotless domain", in: "alice@localhost", want: "email domain has no dot"},
		{name: "leading dot", in: "alice@.example.com", want: "email domain has an empty label"},
		{name: "trailing dot", in: "alice@example.com.", want: "email domain has an empty label"},
		{name: "double dot", in: "alice@example..com", want: "email domain has an empty label"},
		{name: "space", in: "ali ce@example.com", want: "email has a space at position 4"},
		{name: "control", in: "alice@exa\x00mple.com", want: "email has a control character at position 10"},
		{name: "double quote", in: `"alice"@example.com`, want: `email has a character that is not allowed at position 1 (")`},
		{name: "angle bracket", in: "Alice <alice@example.com>", want: "email has a space at position 6"},
		{name: "comma", in: "a,b@example.com", want: "email has a character that is not allowed at position 2 (,)"},
		{name: "invalid utf-8", in: "a\xff@example.com", want: "email is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, ValidEmail(tt.in), tt.want) })
	}
}

func TestValidSub(t *testing.T) {
	const notUUID = "sub is not a UUID (want 8-4-4-4-12 hex digits)"
	tests := []struct {
		name, in, want string
	}{
		{name: "lower", in: "8f14e45f-ceea-467f-a0e6-1a2b3c4d5e6f"},
		{name: "upper", in: "8F14E45F-CEEA-467F-A0E6-1A2B3C4D5E6F"},
		{name: "empty", in: "", want: "sub is empty"},
		{name: "no hyphens", in: "8f14e45fceea467fa0e61a2b3c4d5e6f", want: notUUID},
		{name: "hyphen misplaced", in: "8f14e45fc-eea-467f-a0e6-1a2b3c4d5e6f", want: notUUID},
		{name: "not hex", in: "8f14e45f-ceea-467f-a0e6-1a2b3c4d5e6g", want: notUUID},
		{name: "braces", in: "{8f14e45f-ceea-467f-a0e6-1a2b3c4d5e6}", want: notUUID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, ValidSub(tt.in), tt.want) })
	}
}
