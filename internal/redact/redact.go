// Package redact keeps secrets out of what cogsweep writes. A service, a
// WAF or a proxy may quote back what it was sent, whole or in part, in any
// field of its answer: the error code (x-amzn-ErrorType, __type), the
// message, the request id. Every such field passes through here before it
// reaches a report, a checkpoint, a log or stderr.
//
// A Scrubber knows the secrets of one row (its access token) and removes
// every run of MinPart or more characters of any of them, so a partial echo
// (the signature's tail, the payload's head) goes too. Whatever the row,
// anything shaped like a JWT is removed, and codes and request ids must look
// like codes and request ids.
//
// It imports no cogsweep package; every package that writes what a service
// answered may import it.
package redact

import "strings"

// MinPart is the shortest piece of a secret that is removed on its own. A
// JWT's header, payload and signature are each far longer; shorter pieces
// would match ordinary words, and reveal little.
const MinPart = 16

// Marker replaces each removed piece.
const Marker = "[token]"

// MalformedCode replaces an error code that is not shaped like one (or
// holds a secret): the row still says that the call failed, and how is in
// its message.
const MalformedCode = "MalformedErrorCode"

// Scrubber removes the secrets it was made with, and JWT shapes, from text.
// A nil *Scrubber removes JWT shapes only. It is not safe for concurrent
// use; make one per row.
type Scrubber struct {
	secrets []string
	windows map[string]struct{} // every MinPart-long piece of a secret; built on first use
}

// For returns a Scrubber for secrets; those shorter than MinPart are
// ignored, and with none left it is nil (JWT shapes only, no allocation:
// every admin row gets one).
func For(secrets ...string) *Scrubber {
	var sc *Scrubber
	for _, s := range secrets {
		if len(s) >= MinPart {
			if sc == nil {
				sc = &Scrubber{}
			}
			sc.secrets = append(sc.secrets, s)
		}
	}
	return sc
}

// Text returns s without any run of MinPart characters of a secret, and
// without anything shaped like a JWT; each removed stretch becomes Marker.
// s itself is returned when there is nothing to remove.
func (sc *Scrubber) Text(s string) string {
	if len(s) < MinPart {
		return s
	}
	var mark []bool // mark[i]: byte i is part of a secret
	set := func(from, to int) {
		if mark == nil {
			mark = make([]bool, len(s))
		}
		for i := from; i < to; i++ {
			mark[i] = true
		}
	}
	if w := sc.pieces(); w != nil {
		// A run of L >= MinPart characters of a secret is covered by its
		// L-MinPart+1 windows, each of them a piece of the secret.
		for i := 0; i+MinPart <= len(s); i++ {
			if _, ok := w[s[i:i+MinPart]]; ok {
				set(i, i+MinPart)
			}
		}
	}
	markJWTs(s, set)
	if mark == nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case !mark[i]:
			b.WriteByte(s[i])
		case i == 0 || !mark[i-1]:
			b.WriteString(Marker)
		}
	}
	return b.String()
}

func (sc *Scrubber) pieces() map[string]struct{} {
	if sc == nil || len(sc.secrets) == 0 {
		return nil
	}
	if sc.windows == nil {
		sc.windows = map[string]struct{}{}
		for _, s := range sc.secrets {
			for i := 0; i+MinPart <= len(s); i++ {
				sc.windows[s[i:i+MinPart]] = struct{}{}
			}
		}
	}
	return sc.windows
}

// Text removes JWT shapes from s (no row's secrets known).
func Text(s string) string { return (*Scrubber)(nil).Text(s) }

// jwtStart begins the base64url encoding of a JSON object ({"), as a JWT's
// header and payload do.
const jwtStart = "eyJ"

// markJWTs marks each stretch of base64url characters and dots that holds
// "eyJ" and is at least MinPart long: a JWT, or a piece of one, from any
// row or none.
func markJWTs(s string, set func(from, to int)) {
	for off := 0; ; {
		k := strings.Index(s[off:], jwtStart)
		if k < 0 {
			return
		}
		from, to := off+k, off+k+len(jwtStart)
		for from > 0 && tokenChar(s[from-1]) {
			from--
		}
		for to < len(s) && tokenChar(s[to]) {
			to++
		}
		next := to
		// Dots only join a JWT's parts: an ellipsis after one stays.
		for to > from && s[to-1] == '.' {
			to--
		}
		for from < to && s[from] == '.' {
			from++
		}
		if to-from >= MinPart {
			set(from, to)
		}
		off = next
	}
}

// tokenChar reports whether c may appear in a JWT: base64url and the dot.
func tokenChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Code returns code when it is shaped like an error code (a letter, then up
// to 127 of letters, digits and _.:#-) and holds no secret; "" stays "";
// anything else is MalformedCode.
func (sc *Scrubber) Code(code string) string {
	if code == "" || ValidCode(code) && sc.Text(code) == code {
		return code
	}
	return MalformedCode
}

// Code is Scrubber.Code without a row's secrets.
func Code(code string) string { return (*Scrubber)(nil).Code(code) }

// ValidCode reports whether code is shaped like an AWS error code.
func ValidCode(code string) bool {
	if len(code) == 0 || len(code) > 128 || !isLetter(code[0]) {
		return false
	}
	for i := 1; i < len(code); i++ {
		if c := code[i]; !isAlnum(c) && !strings.ContainsRune("_.:#-", rune(c)) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// RequestID returns id when it is shaped like a request id (1 to 64 letters,
// digits and hyphens: a UUID, moto's 52 characters, S3's hex) and holds no
// secret, else "": a request id that is not one is no use to anyone.
func (sc *Scrubber) RequestID(id string) string {
	if !ValidRequestID(id) || sc.Text(id) != id {
		return ""
	}
	return id
}

// RequestID is Scrubber.RequestID without a row's secrets.
func RequestID(id string) string { return (*Scrubber)(nil).RequestID(id) }

// ValidRequestID reports whether id is shaped like a request id.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}
