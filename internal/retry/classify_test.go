package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkErr wraps apiErr the way the SDK does for a failed operation: an
// OperationError around an awshttp.ResponseError around the API error.
func sdkErr(status int, apiErr error) error {
	return &smithy.OperationError{
		ServiceID:     "Cognito Identity Provider",
		OperationName: "AdminDeleteUser",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      apiErr,
			},
			RequestID: "req-123",
		},
	}
}

func codeErr(status int, code string) error {
	return sdkErr(status, &smithy.GenericAPIError{Code: code, Message: "some text that must not matter"})
}

// transportErr wraps err the way the SDK wraps an HTTP client failure.
func transportErr(err error) error {
	return &smithy.OperationError{
		ServiceID:     "Cognito Identity Provider",
		OperationName: "AdminDisableUser",
		Err:           &smithyhttp.RequestSendError{Err: err},
	}
}

func TestClassify_Codes(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		status int
		kind   Kind
		want   Class
		maybe  bool
	}{
		{name: "internal error", code: "InternalErrorException", status: 500, want: Retry, maybe: true},
		{name: "internal failure", code: "InternalFailure", status: 500, want: Retry, maybe: true},
		{name: "internal server error", code: "InternalServerError", status: 500, want: Retry, maybe: true},
		{name: "service unavailable", code: "ServiceUnavailable", status: 503, want: Retry, maybe: true},
		{name: "service unavailable exception", code: "ServiceUnavailableException", status: 503, want: Retry, maybe: true},
		{name: "request timeout", code: "RequestTimeout", status: 408, want: Retry},
		{name: "request timeout exception", code: "RequestTimeoutException", status: 408, want: Retry},
		{name: "idp communication", code: "IDPCommunicationError", status: 400, want: Retry},
		{name: "too many requests", code: "TooManyRequestsException", status: 400, want: Throttle},
		{name: "too many requests on token call", code: "TooManyRequestsException", status: 400, kind: Token, want: Throttle},
		{name: "throttling exception", code: "ThrottlingException", status: 400, want: Throttle},
		{name: "throttling", code: "Throttling", status: 400, want: Throttle},
		{name: "request limit exceeded", code: "RequestLimitExceeded", status: 503, want: Throttle},
		{name: "user not found", code: "UserNotFoundException", status: 400, want: NotFound},
		{name: "user not found token", code: "UserNotFoundException", status: 400, kind: Token, want: NotFound},
		{name: "invalid parameter", code: "InvalidParameterException", status: 400, want: Permanent},
		{name: "limit exceeded is not a throttle", code: "LimitExceededException", status: 400, want: Permanent},
		{name: "user not confirmed", code: "UserNotConfirmedException", status: 400, kind: Token, want: Permanent},
		{name: "password reset required", code: "PasswordResetRequiredException", status: 400, kind: Token, want: Permanent},
		{name: "alias exists", code: "AliasExistsException", status: 400, want: Permanent},
		{name: "username exists", code: "UsernameExistsException", status: 400, want: Permanent},
		{name: "invalid pool configuration", code: "InvalidUserPoolConfigurationException", status: 400, want: Permanent},
		{name: "unsupported operation", code: "UnsupportedOperationException", status: 400, want: Permanent},
		{name: "validation exception", code: "ValidationException", status: 400, want: Permanent},
		{name: "forbidden (WAF)", code: "ForbiddenException", status: 403, want: Permanent},
		{name: "resource not found fails the pool's rows", code: "ResourceNotFoundException", status: 400, want: PoolMissing},
		{name: "resource not found on token call fails the row", code: "ResourceNotFoundException", status: 400, kind: Token, want: Permanent},
		{name: "access denied exception", code: "AccessDeniedException", status: 400, want: Fatal},
		{name: "access denied", code: "AccessDenied", status: 403, want: Fatal},
		{name: "unrecognized client", code: "UnrecognizedClientException", status: 400, want: Fatal},
		{name: "invalid client token id", code: "InvalidClientTokenId", status: 403, want: Fatal},
		{name: "expired token exception", code: "ExpiredTokenException", status: 400, want: Fatal},
		{name: "expired token", code: "ExpiredToken", status: 400, want: Fatal},
		{name: "signature does not match", code: "SignatureDoesNotMatch", status: 403, want: Fatal},
		{name: "invalid signature", code: "InvalidSignatureException", status: 400, want: Fatal},
		{name: "incomplete signature", code: "IncompleteSignature", status: 400, want: Fatal},
		{name: "missing authentication token", code: "MissingAuthenticationToken", status: 403, want: Fatal},
		{name: "clock skew", code: "RequestTimeTooSkewed", status: 403, want: Fatal},
		{name: "invalid identity token", code: "InvalidIdentityToken", status: 400, want: Fatal},
		{name: "idp rejected claim", code: "IDPRejectedClaim", status: 403, want: Fatal},
		{name: "not authorized on IAM call stops the run", code: "NotAuthorizedException", status: 400, kind: IAM, want: Fatal},
		{name: "not authorized on token call fails the row", code: "NotAuthorizedException", status: 400, kind: Token, want: Permanent},
		{name: "unknown 4xx code", code: "SomethingNewException", status: 400, want: Permanent},
		{name: "unknown 5xx code", code: "SomethingBrokeException", status: 502, want: Retry, maybe: true},
		{name: "unknown 429 code", code: "SlowDownPlease", status: 429, want: Throttle},
		{name: "known code wins over status", code: "UserNotFoundException", status: 500, want: NotFound},
	}
	covered := map[string]bool{}
	tokenCovered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.code] = true
		if tt.kind == Token {
			tokenCovered[tt.code] = true
		}
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(fmt.Errorf("disable row 7: %w", codeErr(tt.status, tt.code)), tt.kind)
			want := Decision{Class: tt.want, Code: tt.code, MaybeExecuted: tt.maybe}
			if got != want {
				t.Errorf("Classify(%s, %d) = %+v, want %+v", tt.code, tt.status, got, want)
			}
		})
	}
	for code := range codeClasses {
		if !covered[code] {
			t.Errorf("code %s is in the table but has no test row", code)
		}
	}
	for code := range tokenClasses {
		if !tokenCovered[code] {
			t.Errorf("code %s is in the token table but has no token test row", code)
		}
	}
}

func TestClassify_ModeledSDKTypes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind Kind
		want Decision
	}{
		{name: "too many requests", err: &types.TooManyRequestsException{Message: aws.String("Rate exceeded")}, want: Decision{Class: Throttle, Code: "TooManyRequestsException"}},
		{name: "user not found", err: &types.UserNotFoundException{}, want: Decision{Class: NotFound, Code: "UserNotFoundException"}},
		{name: "not authorized on token call", err: &types.NotAuthorizedException{}, kind: Token, want: Decision{Class: Permanent, Code: "NotAuthorizedException"}},
		{name: "not authorized on IAM call", err: &types.NotAuthorizedException{}, kind: IAM, want: Decision{Class: Fatal, Code: "NotAuthorizedException"}},
		{name: "internal error", err: &types.InternalErrorException{}, want: Decision{Class: Retry, Code: "InternalErrorException", MaybeExecuted: true}},
		{name: "limit exceeded", err: &types.LimitExceededException{}, want: Decision{Class: Permanent, Code: "LimitExceededException"}},
		{name: "resource not found", err: &types.ResourceNotFoundException{}, want: Decision{Class: PoolMissing, Code: "ResourceNotFoundException"}},
		{name: "forbidden", err: &types.ForbiddenException{}, want: Decision{Class: Permanent, Code: "ForbiddenException"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := 400
			if tt.want.Code == "InternalErrorException" {
				status = 500
			}
			if got := Classify(sdkErr(status, tt.err), tt.kind); got != tt.want {
				t.Errorf("Classify = %+v, want %+v", got, tt.want)
			}
		})
	}
	// A bare modeled error (as a function-field fake returns it) has no
	// status; the code alone decides.
	if got := Classify(&types.InternalErrorException{}, IAM); got != (Decision{Class: Retry, Code: "InternalErrorException", MaybeExecuted: true}) {
		t.Errorf("bare InternalErrorException = %+v", got)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify_NonAPIErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind Kind
		want Decision
	}{
		{name: "nil", err: nil, want: Decision{Class: OK}},
		{name: "per-call timeout", err: &smithy.CanceledError{Err: context.DeadlineExceeded}, want: Decision{Class: Retry, Code: CodeTimeout, MaybeExecuted: true}},
		{name: "net timeout while reading", err: transportErr(&net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}), want: Decision{Class: Retry, Code: CodeTimeout, MaybeExecuted: true}},
		{name: "response read timeout", err: &awshttp.ResponseTimeoutError{}, want: Decision{Class: Retry, Code: CodeTimeout, MaybeExecuted: true}},
		{name: "connection reset", err: transportErr(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), want: Decision{Class: Retry, Code: CodeConnectionReset, MaybeExecuted: true}},
		{name: "broken pipe", err: transportErr(&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}), want: Decision{Class: Retry, Code: CodeConnectionReset, MaybeExecuted: true}},
		{name: "EOF", err: transportErr(io.EOF), want: Decision{Class: Retry, Code: CodeConnectionReset, MaybeExecuted: true}},
		{name: "unexpected EOF", err: transportErr(io.ErrUnexpectedEOF), want: Decision{Class: Retry, Code: CodeConnectionReset, MaybeExecuted: true}},
		{name: "connection refused never sent", err: transportErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), want: Decision{Class: Retry, Code: CodeNetworkError}},
		{name: "dial timeout never sent", err: transportErr(&net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}), want: Decision{Class: Retry, Code: CodeNetworkError}},
		{name: "temporary DNS failure", err: transportErr(&net.DNSError{Err: "server misbehaving", Name: "cognito-idp.x", IsTemporary: true}), want: Decision{Class: Retry, Code: CodeNetworkError}},
		{name: "unknown host stops the run", err: transportErr(&net.DNSError{Err: "no such host", Name: "cognito-idp.x", IsNotFound: true}), want: Decision{Class: Fatal, Code: CodeHostNotFound}},
		{name: "other send failure", err: transportErr(errors.New("tls: bad record")), want: Decision{Class: Retry, Code: CodeNetworkError, MaybeExecuted: true}},
		{name: "HTML 503 without code", err: sdkErr(503, &smithy.DeserializationError{Err: errors.New("invalid character '<'")}), want: Decision{Class: Retry, Code: CodeUnknown, MaybeExecuted: true}},
		{name: "HTML 400 without code", err: sdkErr(400, &smithy.DeserializationError{Err: errors.New("invalid character '<'")}), want: Decision{Class: Permanent, Code: CodeUnknown}},
		{name: "empty static credentials", err: &credentials.StaticCredentialsEmptyError{}, want: Decision{Class: Fatal, Code: CodeCredentialsError}},
		{name: "process credentials", err: &processcreds.ProviderError{Err: errors.New("exit 1")}, want: Decision{Class: Fatal, Code: CodeCredentialsError}},
		{name: "expired SSO session", err: &ssocreds.InvalidTokenError{}, want: Decision{Class: Fatal, Code: CodeCredentialsError}},
		{name: "SSO session never started: no cached token file", err: fmt.Errorf("get identity: %w", &CredentialsError{Err: fmt.Errorf("failed to read cached SSO token file, %w",
			&fs.PathError{Op: "open", Path: "/home/x/.aws/sso/cache/0a.json", Err: syscall.ENOENT})}), want: Decision{Class: Fatal, Code: CodeCredentialsError}},
		{name: "signing failed to retrieve credentials", err: &smithy.OperationError{Err: &v4.SigningError{Err: fmt.Errorf("failed to retrieve credentials: %w", codeErr(403, "AccessDenied"))}}, want: Decision{Class: Fatal, Code: CodeCredentialsError}},
		{name: "credential refresh hit a network blip", err: &v4.SigningError{Err: fmt.Errorf("failed to retrieve credentials: %w", transportErr(io.ErrUnexpectedEOF))}, want: Decision{Class: Retry, Code: CodeCredentialsError}},
		{name: "credential refresh throttled by STS", err: &v4.SigningError{Err: fmt.Errorf("failed to retrieve credentials: %w", codeErr(400, "Throttling"))}, want: Decision{Class: Retry, Code: CodeCredentialsError}},
		{name: "marked credentials error", err: fmt.Errorf("get identity: %w", &CredentialsError{Err: errors.New("no role")}), want: Decision{Class: Fatal, Code: CodeCredentialsError}},
		{name: "credentials retrieval canceled by the caller", err: fmt.Errorf("get identity: %w", &CredentialsError{Err: context.Canceled}), want: Decision{Class: Retry, Code: CodeCanceled}},
		{name: "missing region", err: &aws.MissingRegionError{}, want: Decision{Class: Fatal, Code: CodeConfigError}},
		{name: "SDK parameter validation", err: &smithy.OperationError{Err: smithy.InvalidParamsError{Context: "AdminDeleteUserInput"}}, want: Decision{Class: Permanent, Code: CodeValidationError}},
		{name: "caller canceled", err: &smithy.CanceledError{Err: context.Canceled}, want: Decision{Class: Retry, Code: CodeCanceled, MaybeExecuted: true}},
		{name: "unknown plain error", err: errors.New("boom"), want: Decision{Class: Permanent, Code: CodeUnknown}},
		{name: "pre-classified error wins", err: fmt.Errorf("step: %w", Wrap(Decision{Class: Fatal, Code: "Custom"}, codeErr(400, "TooManyRequestsException"))), want: Decision{Class: Fatal, Code: "Custom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err, tt.kind); got != tt.want {
				t.Errorf("Classify(%v) = %+v, want %+v", tt.err, got, tt.want)
			}
		})
	}
}

// A code field that is not a code (a service or a proxy echoed text, a
// token, into x-amzn-ErrorType or __type) is classified by the listed code
// it holds, else by the status; the Decision's Code is always shaped like a
// code, so what is written of it can hold no token.
func TestClassify_GarbledCodes(t *testing.T) {
	const jwt = "eyJraWQiOiJmYWtlIn0.eyJzdWIiOiIxMjM0NTY3ODkwIiwidXNlcm5hbWUiOiJhbXkifQ.cdwYrgBJj9DdgqeaYKBuMnHcGK4ASY_Q3YKnmmCgbjI"
	tests := []struct {
		name   string
		code   string
		status int
		kind   Kind
		want   Decision
	}{
		{name: "throttle with text after a space", code: "TooManyRequestsException " + jwt, status: 400,
			want: Decision{Class: Throttle, Code: "TooManyRequestsException"}},
		{name: "not authorized with a token after a semicolon, token call", code: "NotAuthorizedException;" + jwt, status: 400, kind: Token,
			want: Decision{Class: Permanent, Code: "NotAuthorizedException"}},
		{name: "text before a fatal code", code: "denied: AccessDeniedException", status: 400,
			want: Decision{Class: Fatal, Code: "AccessDeniedException"}},
		{name: "the token alone, 400", code: jwt, status: 400, want: Decision{Class: Permanent, Code: "MalformedErrorCode"}},
		{name: "the token alone, 500", code: jwt, status: 500, want: Decision{Class: Retry, Code: "MalformedErrorCode", MaybeExecuted: true}},
		{name: "the token alone, 429", code: jwt, status: 429, want: Decision{Class: Throttle, Code: "MalformedErrorCode"}},
		{name: "the payload's first 40, a JWT shape", code: jwt[20:60], status: 400, want: Decision{Class: Permanent, Code: "MalformedErrorCode"}},
		{name: "an unknown code shaped like one is kept", code: "SomethingNewException", status: 400,
			want: Decision{Class: Permanent, Code: "SomethingNewException"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(codeErr(tt.status, tt.code), tt.kind); got != tt.want {
				t.Errorf("Classify(%q, %d) = %+v, want %+v", tt.code, tt.status, got, tt.want)
			}
		})
	}
}

// The message is ignored: only codes decide.
func TestClassify_IgnoresMessageText(t *testing.T) {
	err := sdkErr(400, &smithy.GenericAPIError{Code: "InvalidParameterException", Message: "Rate exceeded: Too many requests"})
	if got := Classify(err, IAM).Class; got != Permanent {
		t.Errorf("class = %v, want permanent", got)
	}
	err = sdkErr(400, &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "User does not exist."})
	if got := Classify(err, IAM).Class; got != Throttle {
		t.Errorf("class = %v, want throttle", got)
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "from response error", err: fmt.Errorf("row 3: %w", codeErr(400, "UserNotFoundException")), want: "req-123"},
		{name: "transport error has none", err: transportErr(io.EOF), want: ""},
		{name: "nil", err: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RequestID(tt.err); got != tt.want {
				t.Errorf("RequestID = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestError_WrappingAndClass(t *testing.T) {
	base := codeErr(400, "AccessDeniedException")
	err := fmt.Errorf("delete row 9: %w", Wrap(Classify(base, IAM), base))
	var ce *Error
	if !errors.As(err, &ce) || ce.Class != Fatal || ce.Code != "AccessDeniedException" {
		t.Fatalf("errors.As found %+v", ce)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("the API error is no longer reachable through the wrapper")
	}
	if want := "delete row 9: fatal AccessDeniedException: operation error"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("message = %q, want prefix %q", err.Error(), want)
	}
	if Wrap(Decision{Class: Fatal}, nil) != nil {
		t.Error("Wrap(nil) must be nil")
	}
}

func TestAnswered(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "4xx with a code", err: codeErr(400, "InvalidParameterException"), want: true},
		{name: "404 without a code", err: codeErr(404, ""), want: true},
		{name: "5xx", err: codeErr(500, "InternalErrorException"), want: true},
		{name: "connection refused", err: transportErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), want: false},
		{name: "timeout", err: transportErr(context.DeadlineExceeded), want: false},
		{name: "reset", err: transportErr(io.EOF), want: false},
		{name: "nil", err: nil, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Answered(tt.err); got != tt.want {
				t.Errorf("Answered = %v, want %v", got, tt.want)
			}
		})
	}
}
