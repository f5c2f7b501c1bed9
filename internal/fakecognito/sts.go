package fakecognito

import (
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// The fake also answers STS GetCallerIdentity, so that one URL can serve as
// both the Cognito and the STS endpoint of a run. STS speaks awsQuery: a
// form-encoded POST naming the Action, answered in XML.

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// CallerUser is the IAM user name in the ARN the fake's GetCallerIdentity
// returns; its AccessDeniedException messages name the same user.
const CallerUser = "cogsweep"

// isQueryRequest tells an awsQuery request (STS) from an awsJson1_1 one.
func isQueryRequest(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// CallerARN is the ARN GetCallerIdentity returns.
func (s *Server) CallerARN() string {
	return "arn:aws:iam::" + s.accountID + ":user/" + CallerUser
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return // the client went away
	}
	form, _ := url.ParseQuery(string(body))
	op := form.Get("Action")
	s.countCall(op)
	reqID := s.idRand.uuid()
	if r.Method != http.MethodPost || op != "GetCallerIdentity" {
		writeQueryError(w, reqID, http.StatusBadRequest, "InvalidAction", "Could not find operation "+op+" for version "+form.Get("Version"))
		return
	}
	k := s.currentKnobs()
	if !s.delay(r.Context(), k) {
		return
	}
	if k.rejectCredentials {
		writeQueryError(w, reqID, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	s.countProcessed(op)
	s.countExecuted(op)
	type result struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	out := struct {
		XMLName xml.Name `xml:"GetCallerIdentityResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Result  result   `xml:"GetCallerIdentityResult"`
		ReqID   string   `xml:"ResponseMetadata>RequestId"`
	}{Xmlns: stsNamespace, ReqID: reqID, Result: result{
		Arn: s.CallerARN(), Account: s.accountID, UserID: "AIDA" + strings.ToUpper(accessKeyID(r)),
	}}
	writeXML(w, reqID, http.StatusOK, out)
}

// accessKeyID is the access key the request was signed with (signatures are
// not checked), or "" when it is not signed.
func accessKeyID(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

func writeQueryError(w http.ResponseWriter, reqID string, status int, code, msg string) {
	type errorBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	writeXML(w, reqID, status, struct {
		XMLName xml.Name  `xml:"ErrorResponse"`
		Xmlns   string    `xml:"xmlns,attr"`
		Error   errorBody `xml:"Error"`
		ReqID   string    `xml:"RequestId"`
	}{Xmlns: stsNamespace, Error: errorBody{typ, code, msg}, ReqID: reqID})
}

func writeXML(w http.ResponseWriter, reqID string, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte("<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>")
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
