package fakecognito

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// accessClaims is the payload of an access token. Gen is the fake's own
// claim: the user's revocation generation at issue, so a sign-out revokes
// tokens issued before it even within the same second (iat has only
// seconds).
type accessClaims struct {
	Sub       string `json:"sub"`
	Iss       string `json:"iss"`
	ClientID  string `json:"client_id"`
	OriginJTI string `json:"origin_jti"`
	EventID   string `json:"event_id"`
	TokenUse  string `json:"token_use"`
	Scope     string `json:"scope"`
	AuthTime  int64  `json:"auth_time"`
	Exp       int64  `json:"exp"`
	Iat       int64  `json:"iat"`
	JTI       string `json:"jti"`
	Username  string `json:"username"`
	Gen       uint32 `json:"fake_gen"`
}

const adminScope = "aws.cognito.signin.user.admin"

// IssueToken returns an access token for the user, shaped like Cognito's
// (base64url header.payload.signature) but unsigned: the signature part is
// random bytes and the fake never checks it. The token expires after
// Options.TokenTTL on the fake clock and is revoked by a global sign-out,
// a disable or the user's deletion. For an unknown user it returns a token
// that the fake will refuse.
func (s *Server) IssueToken(poolID, username string) string {
	s.mu.Lock()
	var c accessClaims
	if p := s.pools[poolID]; p != nil {
		if u := p.find(username); u != nil {
			c.Sub, c.Username, c.Gen = formatUUID(u.sub), u.username, u.gen
		}
	}
	s.mu.Unlock()
	if c.Sub == "" {
		c.Sub, c.Username = s.idRand.uuid(), username
	}
	now := s.Now().Unix()
	c.Iss = s.issuer(poolID)
	c.ClientID = s.clientID
	c.OriginJTI = s.idRand.uuid()
	c.EventID = s.idRand.uuid()
	c.TokenUse = "access"
	c.Scope = adminScope
	c.AuthTime, c.Iat, c.Exp = now, now, now+int64(s.tokenTTL.Seconds())
	c.JTI = s.idRand.uuid()
	payload, _ := json.Marshal(c) // a struct of strings and ints cannot fail
	enc := base64.RawURLEncoding
	sig := s.idRand.bytes16()
	return enc.EncodeToString([]byte(`{"kid":"fakecognito","alg":"RS256"}`)) + "." +
		enc.EncodeToString(payload) + "." + enc.EncodeToString(append(sig[:], sig[:]...))
}

func (s *Server) issuer(poolID string) string {
	region, _, _ := strings.Cut(poolID, "_")
	return "https://cognito-idp." + region + ".amazonaws.com/" + poolID
}

// authenticate resolves an access token to its pool and user; the caller
// holds s.mu. Messages never contain the token.
func (s *Server) authenticate(token string) (*pool, *user, *apiError) {
	if token == "" {
		return nil, nil, errNull("accessToken")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, nil, errNotAuthorized(msgTokenInvalid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, errNotAuthorized(msgTokenInvalid)
	}
	var c accessClaims
	if err := json.Unmarshal(raw, &c); err != nil || c.TokenUse != "access" {
		return nil, nil, errNotAuthorized(msgTokenInvalid)
	}
	if !strings.Contains(" "+c.Scope+" ", " "+adminScope+" ") {
		return nil, nil, errNotAuthorized("Access Token does not have required scopes")
	}
	if s.Now().Unix() >= c.Exp {
		return nil, nil, errNotAuthorized(msgTokenExpired)
	}
	i := strings.LastIndexByte(c.Iss, '/')
	p := s.pools[c.Iss[i+1:]]
	if p == nil || c.Iss != s.issuer(p.id) {
		return nil, nil, errNotAuthorized(msgTokenInvalid)
	}
	sub, ok := parseUUID(c.Sub)
	if !ok {
		return nil, nil, errNotAuthorized(msgTokenInvalid)
	}
	u := p.bySub[sub]
	if u == nil || u.gen != c.Gen {
		return nil, nil, errNotAuthorized(msgTokenRevoked)
	}
	if !u.enabled {
		return nil, nil, errNotAuthorized(msgUserDisabled)
	}
	return p, u, nil
}
