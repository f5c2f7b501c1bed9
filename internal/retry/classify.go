// Package retry decides what a failed Cognito call means (retry it, give up on
// the row, or stop the run), computes backoff delays, and runs the retry loop.
//
// Decisions are made from the AWS error code, the HTTP status and Go error
// types, never from message text: AWS rewords messages ("Rate exceeded",
// "Too many requests") but keeps codes stable.
//
// It also owns the run-wide class as a type, FatalError, which errors.As finds
// through any wrapping wherever the fault was met (as rclone's fserrors owns
// "fatal"). It may import redact only; anything that makes or judges a call
// may import it.
package retry

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"

	"github.com/cogsweep/cogsweep/internal/redact"
)

// Class is what a failure means for the row and the run.
type Class int

const (
	// OK means no error.
	OK Class = iota
	// Retry is a transient failure: try the same call again after a backoff.
	Retry
	// Throttle is a transient failure caused by the shared request quota:
	// retry after a backoff and slow the shared limiter.
	Throttle
	// NotFound means the user does not exist; for most actions that is an
	// outcome, not a failure.
	NotFound
	// Permanent means this row cannot succeed; other rows may.
	Permanent
	// Fatal means no row can succeed (credentials, access): stop the run.
	Fatal
	// PoolMissing means the call's user pool does not exist: every row of
	// that pool fails, rows of other pools may succeed (a row's
	// user_pool_id may name another pool than --user-pool-id). Whoever
	// checked the pool before any call (the pre-flight) decides what it
	// means for the run.
	PoolMissing
)

var classNames = [...]string{"ok", "retry", "throttle", "not_found", "permanent", "fatal", "pool_missing"}

// String returns a lower-case name such as "throttle".
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "unknown"
	}
	return classNames[c]
}

// Transient reports whether a failure of this class may succeed if retried.
func (c Class) Transient() bool { return c == Retry || c == Throttle }

// Kind is how a call authenticates, which changes what some codes mean.
type Kind int

const (
	// IAM calls are signed with the run's credentials (Admin* calls).
	IAM Kind = iota
	// Token calls carry a user's access token (DeleteUser,
	// DeleteUserAttributes); IAM is not involved.
	Token
)

// Codes for failures that carry no AWS error code.
const (
	CodeTimeout          = "Timeout"
	CodeConnectionReset  = "ConnectionReset"
	CodeNetworkError     = "NetworkError"
	CodeHostNotFound     = "HostNotFound"
	CodeCredentialsError = "CredentialsError"
	CodeConfigError      = "ConfigError"
	CodeValidationError  = "ValidationError"
	CodeCanceled         = "Canceled"
	CodeUnknown          = "Unknown"
)

// Decision is the verdict on one error.
type Decision struct {
	Class Class
	// Code is the AWS error code, or one of the Code* constants for errors
	// without one.
	Code string
	// MaybeExecuted is true when the service may have carried out the
	// request even though the call failed (a timeout or reset after the
	// request was sent, a 5xx). It is false when the service answered with
	// a refusal (4xx, throttling) or the request never left the process
	// (dial failure, connection refused, signing failure).
	MaybeExecuted bool
}

// codeClasses is the one table mapping AWS error codes to classes for both
// call kinds; tokenClasses overrides it for token calls. Codes not listed
// fall back on the HTTP status.
var codeClasses = map[string]Class{
	// Transient service faults.
	"InternalErrorException":      Retry,
	"InternalFailure":             Retry,
	"InternalServerError":         Retry,
	"ServiceUnavailable":          Retry,
	"ServiceUnavailableException": Retry,
	"RequestTimeout":              Retry,
	"RequestTimeoutException":     Retry,
	// STS (web identity credentials) could not reach the identity provider.
	"IDPCommunicationError": Retry,

	// The shared request quota. Cognito says TooManyRequestsException; the
	// others are other services' names for the same thing, kept in case a
	// proxy or a future API version uses them.
	"TooManyRequestsException": Throttle,
	"ThrottlingException":      Throttle,
	"Throttling":               Throttle,
	"RequestLimitExceeded":     Throttle,

	"UserNotFoundException": NotFound,

	// This row cannot succeed. LimitExceededException is a hard resource
	// limit, not a rate limit: retrying does not help (the SDK's own
	// retryer treats it as throttling, which is one reason it is off).
	"InvalidParameterException":             Permanent,
	"LimitExceededException":                Permanent,
	"UserNotConfirmedException":             Permanent,
	"PasswordResetRequiredException":        Permanent,
	"AliasExistsException":                  Permanent,
	"UsernameExistsException":               Permanent,
	"InvalidUserPoolConfigurationException": Permanent,
	"UnsupportedOperationException":         Permanent,
	"ValidationException":                   Permanent,
	// WAF refused this request. Permanent for the row; the pipeline counts
	// them in a row (batch's MaxStreak) because many mean every request is
	// refused.
	"ForbiddenException": Permanent,

	// On an Admin* call: the pool does not exist (the one Cognito
	// resource those calls name). Its rows fail; the others go on.
	"ResourceNotFoundException": PoolMissing,

	// No row can succeed.
	"AccessDeniedException":       Fatal,
	"AccessDenied":                Fatal,
	"UnrecognizedClientException": Fatal,
	"InvalidClientTokenId":        Fatal,
	"ExpiredTokenException":       Fatal,
	"ExpiredToken":                Fatal,
	"SignatureDoesNotMatch":       Fatal,
	"InvalidSignatureException":   Fatal,
	"IncompleteSignature":         Fatal,
	"MissingAuthenticationToken":  Fatal,
	"RequestTimeTooSkewed":        Fatal,
	"InvalidIdentityToken":        Fatal,
	"IDPRejectedClaim":            Fatal,
	codeNotAuthorized:             Fatal,
}

// tokenClasses are the codes whose meaning changes on a token call: there
// they speak of the row's own token, not of the run's credentials or pool.
var tokenClasses = map[string]Class{
	// The user's token is expired, revoked or its user is gone (this row
	// only); on an IAM call the run's credentials are refused (every row).
	codeNotAuthorized: Permanent,
	// The token names an app client or pool that does not exist
	// (cognito-local answers this for a token of an unknown client): one
	// bad token, while on an IAM call the run's pool is missing.
	"ResourceNotFoundException": Permanent,
}

// codeNotAuthorized is Fatal on IAM calls and Permanent on token calls.
const codeNotAuthorized = "NotAuthorizedException"

// Classify decides what err means for a call of the given kind. It looks, in
// order, for a class already attached with Wrap, a parent-context
// cancellation, credential and configuration errors, an AWS error code, the
// HTTP status, and network errors. Unrecognised errors are Permanent: a row
// should fail visibly rather than hammer the service with a call that may
// never work.
func Classify(err error, kind Kind) Decision {
	if err == nil {
		return Decision{Class: OK}
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Decision
	}
	if d, ok := credentialsDecision(err); ok {
		return d
	}
	var missingRegion *aws.MissingRegionError
	var noEndpoint *aws.EndpointNotFoundError
	if errors.As(err, &missingRegion) || errors.As(err, &noEndpoint) {
		return Decision{Class: Fatal, Code: CodeConfigError}
	}
	// Client-side validation by the SDK: nothing was sent. Generated
	// validators return the value type; match the pointer too.
	var invalid smithy.InvalidParamsError
	var invalidPtr *smithy.InvalidParamsError
	if errors.As(err, &invalid) || errors.As(err, &invalidPtr) {
		return Decision{Class: Permanent, Code: CodeValidationError}
	}
	status := httpStatus(err)
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return apiDecision(ae.ErrorCode(), status, kind)
	}
	if status != 0 {
		// A response without a usable error code (for example an HTML page
		// from a proxy). The service answered, so a 5xx may have run.
		return apiDecision("", status, kind)
	}
	return transportDecision(err)
}

func apiDecision(raw string, status int, kind Kind) Decision {
	code := knownCode(raw)
	// The class comes from the code as sent; what is kept of it for the
	// report and the logs must look like a code (a service or a proxy may
	// echo anything there, a token included).
	d := Decision{Code: redact.Code(code)}
	if code == "" {
		d.Code = CodeUnknown
	}
	class, known := codeClasses[code]
	if c, ok := tokenClasses[code]; ok && kind == Token {
		class, known = c, true
	}
	switch {
	case known:
	case status == 429:
		class = Throttle
	case status >= 500:
		class = Retry
	default:
		class = Permanent
	}
	d.Class = class
	// A throttle is refused before any work; other 4xx answers are refusals
	// too. A 5xx (or InternalErrorException without a status, as fakes send
	// it) may have done the work before failing.
	d.MaybeExecuted = class == Retry && (status >= 500 || status == 0)
	return d
}

// knownCode returns raw when the tables list it, else the first word of raw
// that they list ("TooManyRequestsException <echoed text>" is still a
// throttle), else raw. Only the code field is read, never the message.
func knownCode(raw string) string {
	if isListed(raw) {
		return raw
	}
	for _, w := range strings.FieldsFunc(raw, notCodeChar) {
		if isListed(w) {
			return w
		}
	}
	return raw
}

func isListed(code string) bool {
	_, a := codeClasses[code]
	_, b := tokenClasses[code]
	return a || b
}

func notCodeChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// credentialsDecision recognises failures to obtain or use the run's
// credentials: a *CredentialsError from WrapCredentials (the SDK's identity
// resolution gives no type of its own), a *v4.SigningError (older signing
// path), or the provider types that have one, for a direct Retrieve. A transient cause
// inside (STS unreachable, an STS 5xx) stays retryable: refreshing
// credentials mid-run must not abort a long run over a network blip.
func credentialsDecision(err error) (Decision, bool) {
	var marked *CredentialsError
	var signing *v4.SigningError
	var static *credentials.StaticCredentialsEmptyError
	var process *processcreds.ProviderError
	var sso *ssocreds.InvalidTokenError
	var cause error
	switch {
	case errors.As(err, &marked):
		cause = marked.Err
	case errors.As(err, &signing):
		cause = signing.Err
	case errors.As(err, &static), errors.As(err, &process), errors.As(err, &sso):
	default:
		return Decision{}, false
	}
	var file *fs.PathError
	if cause != nil && !errors.As(cause, &file) { // a token cache file is missing or unreadable: no retry heals it
		inner := Classify(cause, IAM)
		switch {
		case inner.Code == CodeCanceled:
			return Decision{Class: Retry, Code: CodeCanceled}, true
		case inner.Class.Transient():
			return Decision{Class: Retry, Code: CodeCredentialsError}, true
		}
	}
	return Decision{Class: Fatal, Code: CodeCredentialsError}, true
}

// transportDecision classifies errors that carry neither an AWS code nor an
// HTTP response: the request failed on the way or the answer never came.
func transportDecision(err error) Decision {
	var dns *net.DNSError
	var op *net.OpError
	var timeout interface{ Timeout() bool }
	var conn interface{ ConnectionError() bool }
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up; the request may have been in flight.
		return Decision{Class: Retry, Code: CodeCanceled, MaybeExecuted: true}
	case errors.As(err, &dns) && dns.IsNotFound:
		// The endpoint's name does not exist: a wrong region or endpoint
		// override, the same for every row.
		return Decision{Class: Fatal, Code: CodeHostNotFound}
	case errors.As(err, &dns):
		return Decision{Class: Retry, Code: CodeNetworkError}
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &op) && op.Op == "dial":
		// Nothing was sent: the connection never opened.
		return Decision{Class: Retry, Code: CodeNetworkError}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timeout) && timeout.Timeout():
		return Decision{Class: Retry, Code: CodeTimeout, MaybeExecuted: true}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return Decision{Class: Retry, Code: CodeConnectionReset, MaybeExecuted: true}
	case errors.As(err, &conn) && conn.ConnectionError(), errors.As(err, &op):
		return Decision{Class: Retry, Code: CodeNetworkError, MaybeExecuted: true}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return Decision{Class: Retry, Code: CodeNetworkError, MaybeExecuted: true}
	}
	return Decision{Class: Permanent, Code: CodeUnknown}
}

// Answered reports whether err came with an HTTP response: the endpoint
// answered, if only to refuse (an emulator that lacks the operation says
// 404 or 500). A refused connection, a timeout or a reset before any
// answer is false. It looks at the response, never at the message.
func Answered(err error) bool { return httpStatus(err) != 0 }

// httpStatus returns the HTTP status of the response that err came from, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.ResponseError != nil && re.Response != nil {
		return re.HTTPStatusCode()
	}
	var sc interface{ HTTPStatusCode() int }
	if errors.As(err, &sc) {
		return sc.HTTPStatusCode()
	}
	return 0
}

// RequestID returns the service's request id carried by err, or "" when the
// service did not answer.
func RequestID(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.RequestID != "" {
		return re.RequestID
	}
	var id interface{ ServiceRequestID() string }
	if errors.As(err, &id) {
		return id.ServiceRequestID()
	}
	return ""
}
