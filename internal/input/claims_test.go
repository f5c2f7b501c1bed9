package input

import (
	"encoding/base64"
	"strings"
	"testing"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".c2lnbmF0dXJl"
}

func TestTokenUsername(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{name: "username claim", token: jwt(`{"sub":"0b5c1a2e-1111-4222-8333-444455556666","username":"alice","token_use":"access"}`), want: "alice"},
		{name: "sub when no username", token: jwt(`{"sub":"0b5c1a2e-1111-4222-8333-444455556666"}`), want: "0b5c1a2e-1111-4222-8333-444455556666"},
		{name: "padded payload", token: strings.Replace(jwt(`{"username":"bob"}`), ".c2ln", "==.c2ln", 1), want: "bob"},
		{name: "no claims", token: jwt(`{"token_use":"access"}`), want: ""},
		{name: "username with a space is not a username", token: jwt(`{"username":"a b"}`), want: ""},
		{name: "not json", token: jwt(`not json`), want: ""},
		{name: "not base64", token: "aaa.!!!.bbb", want: ""},
		{name: "one part", token: "opaque-token", want: ""},
		{name: "two parts", token: "aaa.bbb", want: ""},
		{name: "empty", token: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenUsername(tt.token); got != tt.want {
				t.Errorf("TokenUsername = %q, want %q", got, tt.want)
			}
		})
	}
}
