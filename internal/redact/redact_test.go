package redact

import (
	"strings"
	"testing"
)

// A token shaped like Cognito's; the header is the fake's.
const (
	header  = "eyJraWQiOiJmYWtlY29nbml0byIsImFsZyI6IlJTMjU2In0"
	payload = "eyJzdWIiOiI2ZmRmZjMyYy1iZWRmLTQ3NWYtYTQ3Yi00ZDc3NmRiMDM2OWMiLCJ1c2VybmFtZSI6ImFteSJ9"
	sig     = "cdwYrgBJj9DdgqeaYKBuMnHcGK4ASY_Q3YKnmmCgbjI"
	token   = header + "." + payload + "." + sig
)

func TestScrubber_Text(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no secret", "Rate exceeded", "Rate exceeded"},
		{"whole token", "bad token " + token + " here", "bad token [token] here"},
		{"payload alone", "claims " + payload, "claims [token]"},
		{"signature alone", "sig=" + sig + ";", "sig=[token];"},
		{"signature's last 30", "x" + sig[len(sig)-30:] + "y", "x[token]y"},
		{"payload's first 40", payload[:40] + "...", "[token]..."},
		{"a piece across the dot", payload[len(payload)-10:] + "." + sig[:10], "[token]"},
		{"exactly MinPart characters", "<" + sig[5:5+MinPart] + ">", "<[token]>"},
		{"one short of MinPart stays", "<" + sig[5:5+MinPart-1] + ">", "<" + sig[5:5+MinPart-1] + ">"},
		{"two pieces", sig[:20] + " and " + sig[len(sig)-20:], "[token] and [token]"},
		{"glued to a code", "TooManyRequestsException" + sig[3:33], "TooManyRequestsException[token]"},
		{"another token's JWT shape", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln", "[token]"},
		{"a short eyJ stays", "eyJ is short", "eyJ is short"},
		{"multibyte text around", "é" + sig + "ü", "é[token]ü"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := For(token).Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestText_WithoutSecretsRemovesJWTShapesOnly(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a whole token", "x " + token, "x [token]"},
		{"the payload's first 40", payload[:40], "[token]"},
		{"the signature alone is not a JWT shape", sig, sig},
		{"plain message", "User does not exist.", "User does not exist."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestScrubber_Code(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a real code", "TooManyRequestsException", "TooManyRequestsException"},
		{"our own code", "CheckpointWriteFailed", "CheckpointWriteFailed"},
		{"empty stays empty", "", ""},
		{"the whole token", token, MalformedCode},
		{"the signature's last 30 fits the shape but is the token", sig[len(sig)-30:], MalformedCode},
		{"the payload's first 40", payload[:40], MalformedCode},
		{"a code with a space and text", "TooManyRequestsException Rate exceeded", MalformedCode},
		{"too long", "A" + strings.Repeat("b", 128), MalformedCode},
		{"starts with a digit", "500", MalformedCode},
		{"a control character", "Internal\nError", MalformedCode},
		{"with a namespace", "aws.protocoltests#Throttling", "aws.protocoltests#Throttling"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := For(token).Code(tc.in); got != tc.want {
				t.Errorf("Code(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestScrubber_RequestID(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a UUID", "6fdff32c-bedf-475f-a47b-4d776db0369c", "6fdff32c-bedf-475f-a47b-4d776db0369c"},
		{"moto's 52 characters", strings.Repeat("aB3", 17) + "x", strings.Repeat("aB3", 17) + "x"},
		{"empty", "", ""},
		{"the whole token", token, ""},
		{"the signature's last 30", sig[len(sig)-30:], ""},
		{"a piece of the signature without _ or .", sig[:20], ""},
		{"the payload's first 40", payload[:40], ""},
		{"too long", strings.Repeat("a", 65), ""},
		{"a space", "abc def", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := For(token).RequestID(tc.in); got != tc.want {
				t.Errorf("RequestID(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestScrubber_NilAndShortSecrets(t *testing.T) {
	var sc *Scrubber
	if got := sc.Code("ThrottlingException"); got != "ThrottlingException" {
		t.Errorf("nil scrubber changed a code: %q", got)
	}
	// A secret shorter than MinPart is not a secret worth a false match.
	if got := For("short", "").Text("a short text of words"); got != "a short text of words" {
		t.Errorf("short secret removed text: %q", got)
	}
}

func BenchmarkScrubber_Message(b *testing.B) {
	msg := "operation error Cognito Identity Provider: DeleteUser, https response error StatusCode: 400, RequestID: 6fdff32c-bedf-475f-a47b-4d776db0369c, NotAuthorizedException: Access Token has been revoked"
	for b.Loop() {
		_ = For(token).Text(msg)
	}
}
