package fakecognito

import (
	"fmt"
	"net/http"
)

// apiError is a service error as the wire carries it: a code that goes into
// both the x-amzn-ErrorType header and the body's __type, and an HTTP status.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func clientErr(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// The codes the fake returns. They are the real service's codes: the SDK
// turns each into its typed error (types.UserNotFoundException, ...).
const (
	codeAccessDenied      = "AccessDeniedException"
	codeGroupExists       = "GroupExistsException"
	codeInternalError     = "InternalErrorException"
	codeInvalidParameter  = "InvalidParameterException"
	codeNotAuthorized     = "NotAuthorizedException"
	codeResourceNotFound  = "ResourceNotFoundException"
	codeSerialization     = "SerializationException"
	codeTooManyRequests   = "TooManyRequestsException"
	codeUnknownOperation  = "UnknownOperationException"
	codeUnrecognized      = "UnrecognizedClientException"
	codeUserNotFound      = "UserNotFoundException"
	codeUsernameExists    = "UsernameExistsException"
	msgRateExceeded       = "Rate exceeded"
	msgUserNotFound       = "User does not exist."
	msgTokenRevoked       = "Access Token has been revoked"
	msgTokenExpired       = "Access Token has expired"
	msgTokenInvalid       = "Invalid Access Token"
	msgUserDisabled       = "User is disabled."
	msgBadCredentials     = "The security token included in the request is invalid."
	msgSerialization      = "Start of structure or map found where not expected."
	msgInternalError      = "Internal server error."
	msgPaginationTokenBad = "Invalid pagination token."
)

func errInternal() *apiError {
	return &apiError{status: http.StatusInternalServerError, code: codeInternalError, message: msgInternalError}
}

func errThrottled() *apiError { return clientErr(codeTooManyRequests, msgRateExceeded) }

func errUserNotFound() *apiError { return clientErr(codeUserNotFound, msgUserNotFound) }

func errPoolNotFound(id string) *apiError {
	return clientErr(codeResourceNotFound, "User pool %s does not exist.", id)
}

func errGroupNotFound() *apiError { return clientErr(codeResourceNotFound, "Group not found.") }

func errNotAuthorized(msg string) *apiError { return clientErr(codeNotAuthorized, "%s", msg) }

// errInvalid reports a constraint violation the way the service's validation
// layer words it.
func errInvalid(format string, args ...any) *apiError {
	return clientErr(codeInvalidParameter, format, args...)
}

func errNull(member string) *apiError {
	return errInvalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}
