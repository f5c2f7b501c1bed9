package input

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// maxClaimPayload bounds the payload TokenUsername decodes: Cognito access
// tokens are about 1 KiB; anything much larger is not one.
const maxClaimPayload = 16 << 10

// TokenUsername returns the `username` claim of an access token's payload,
// else its `sub` claim, else "". The token is a JWT (header.payload.
// signature); its signature is NOT verified: the value names the row's user
// for people reading a report, it proves nothing. Nothing of the token
// other than that claim is returned, and a malformed token gives "" rather
// than an error that could quote it.
func TokenUsername(token string) string {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok || payload == "" || len(payload) > maxClaimPayload {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return ""
	}
	var c struct {
		Username string `json:"username"`
		Sub      string `json:"sub"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	for _, v := range []string{c.Username, c.Sub} {
		// Only a value that could be a username: a forged payload must not
		// put control characters or a novel into the report.
		if v != "" && ValidUsername(v) == nil {
			return v
		}
	}
	return ""
}
