package batch

import "strings"

// ResolvedToken is the report's resolved_by for a token row whose username
// was read from the access token's payload. The token's signature is not
// verified: a forged token can name anyone, so the name is a hint for people,
// never proof. (A row that ended self_deleted or attributes_deleted was
// accepted by Cognito, which does verify it.)
const ResolvedToken = "token_claim"

// minSecretPart is the shortest part of a token scrub removes on its own: a
// JWT's header, payload and signature are each far longer, and shorter
// strings would match ordinary words.
const minSecretPart = 16

// scrub removes token from s, and each long dot-separated part of it too:
// an error that quoted only the payload would still reveal the claims.
func scrub(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "[token]")
	for part := range strings.SplitSeq(token, ".") {
		if len(part) >= minSecretPart {
			s = strings.ReplaceAll(s, part, "[token]")
		}
	}
	return s
}

// redacted is an error whose text had the row's token scrubbed out. It
// still unwraps to the original so errors.As finds the AWS error.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// redact returns err with token scrubbed out of its text; err itself when
// the row has no token.
func redact(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	return &redacted{msg: scrub(err.Error(), token), err: err}
}
