package fakecognito

import (
	"encoding/json"
	"net/http"
)

// Echo is an answer that quotes the caller's access token back, as a
// service, a WAF or a proxy between may: in the x-amzn-ErrorType header, in
// the body's __type and message, and in the x-amzn-RequestId header. A
// client must keep every such field out of what it writes.
type Echo struct {
	// Status is the HTTP status (default 400).
	Status int
	// Header is the x-amzn-ErrorType header; empty sends none, so the SDK
	// takes the code from Type.
	Header string
	// Type and Message are the body's __type and message.
	Type, Message string
	// RequestID is the x-amzn-RequestId header; empty keeps the fake's own.
	RequestID string
}

// EchoFunc decides the echo fault for one token call from the request's
// access token: ok false lets the call go on as usual.
type EchoFunc func(token string) (e Echo, ok bool)

// SetEcho turns the echo fault on for token calls (DeleteUser,
// DeleteUserAttributes) that faults apply to; nil turns it off. It is drawn
// before the other faults and the quota.
func (s *Server) SetEcho(f EchoFunc) { s.setKnobs(func(k *knobs) { k.echo = f }) }

// echoFault answers the request with k.echo's Echo when it asks for one.
func echoFault(w http.ResponseWriter, reqID string, k knobs, body []byte) bool {
	if k.echo == nil {
		return false
	}
	var req struct {
		AccessToken string `json:"AccessToken"`
	}
	_ = json.Unmarshal(body, &req) // a bad body echoes ""
	e, ok := k.echo(req.AccessToken)
	if !ok {
		return false
	}
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	if e.RequestID != "" {
		reqID = e.RequestID
	}
	if e.Header != "" {
		w.Header().Set("x-amzn-ErrorType", e.Header)
	}
	writeJSON(w, reqID, e.Status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
	return true
}
