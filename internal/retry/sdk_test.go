package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// These tests run the real SDK client against a local server so that the
// error chains Classify sees are the SDK's own, not hand-built imitations.

func sdkClient(url string, creds aws.CredentialsProvider) *cip.Client {
	if creds == nil {
		creds = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	}
	return cip.New(cip.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  creds,
		Retryer:      aws.NopRetryer{},
	})
}

func awsError(status int, code string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("x-amzn-RequestId", "rid-"+code)
		w.Header().Set("x-amzn-ErrorType", code)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"__type":"` + code + `","message":"Rate exceeded"}`))
	}
}

type credsFunc func(context.Context) (aws.Credentials, error)

func (f credsFunc) Retrieve(ctx context.Context) (aws.Credentials, error) { return f(ctx) }

func TestClassify_RealSDKErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		token   bool
		creds   aws.CredentialsProvider
		timeout time.Duration
		want    Decision
		reqID   string
	}{
		{name: "throttled", handler: awsError(400, "TooManyRequestsException"), want: Decision{Class: Throttle, Code: "TooManyRequestsException"}, reqID: "rid-TooManyRequestsException"},
		{name: "internal error", handler: awsError(500, "InternalErrorException"), want: Decision{Class: Retry, Code: "InternalErrorException", MaybeExecuted: true}, reqID: "rid-InternalErrorException"},
		{name: "user not found", handler: awsError(400, "UserNotFoundException"), want: Decision{Class: NotFound, Code: "UserNotFoundException"}},
		{name: "pool not found", handler: awsError(400, "ResourceNotFoundException"), want: Decision{Class: PoolMissing, Code: "ResourceNotFoundException"}},
		{name: "not authorized on IAM call", handler: awsError(400, "NotAuthorizedException"), want: Decision{Class: Fatal, Code: "NotAuthorizedException"}},
		{name: "not authorized on token call", handler: awsError(400, "NotAuthorizedException"), token: true, want: Decision{Class: Permanent, Code: "NotAuthorizedException"}},
		{name: "WAF forbidden", handler: awsError(403, "ForbiddenException"), want: Decision{Class: Permanent, Code: "ForbiddenException"}},
		{
			name: "HTML 502 from a proxy",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				_, _ = w.Write([]byte("<html>bad gateway</html>"))
			},
			want: Decision{Class: Retry, Code: CodeUnknown, MaybeExecuted: true},
		},
		{
			name: "connection dropped after the request was read",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
					_ = conn.Close()
				}
			},
			want: Decision{Class: Retry, Code: CodeConnectionReset, MaybeExecuted: true},
		},
		{
			name: "per-call timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				// Reading the body lets the server notice the client
				// hanging up, which ends r.Context().
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			},
			timeout: 50 * time.Millisecond,
			want:    Decision{Class: Retry, Code: CodeTimeout, MaybeExecuted: true},
		},
		{
			name:    "credentials cannot be retrieved",
			handler: awsError(200, "unused"),
			creds: WrapCredentials(credsFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{}, errors.New("no EC2 IMDS role found")
			})),
			want: Decision{Class: Fatal, Code: CodeCredentialsError},
		},
		{
			name:    "credentials endpoint timed out",
			handler: awsError(200, "unused"),
			creds: WrapCredentials(credsFunc(func(ctx context.Context) (aws.Credentials, error) {
				<-ctx.Done()
				return aws.Credentials{}, ctx.Err()
			})),
			timeout: 20 * time.Millisecond,
			want:    Decision{Class: Retry, Code: CodeCredentialsError},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			defer srv.CloseClientConnections()
			client := sdkClient(srv.URL, tt.creds)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			kind := IAM
			var err error
			if tt.token {
				kind = Token
				_, err = client.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: aws.String("eyJ.secret.token")})
			} else {
				_, err = client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String("us-east-1_abc"), Username: aws.String("alice")})
			}
			if err == nil {
				t.Fatal("call succeeded, want an error")
			}
			if got := Classify(err, kind); got != tt.want {
				t.Errorf("Classify(%v) = %+v, want %+v", err, got, tt.want)
			}
			if tt.reqID != "" && RequestID(err) != tt.reqID {
				t.Errorf("RequestID = %q, want %q", RequestID(err), tt.reqID)
			}
		})
	}
}

func TestClassify_RealSDKConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	_ = ln.Close()
	_, err = sdkClient(url, nil).AdminDisableUser(context.Background(), &cip.AdminDisableUserInput{UserPoolId: aws.String("us-east-1_abc"), Username: aws.String("alice")})
	want := Decision{Class: Retry, Code: CodeNetworkError}
	if got := Classify(err, IAM); got != want {
		t.Errorf("Classify(%v) = %+v, want %+v", err, got, want)
	}
}

func TestWrapCredentials(t *testing.T) {
	if p := WrapCredentials(aws.AnonymousCredentials{}); p != (aws.AnonymousCredentials{}) {
		t.Errorf("anonymous provider was wrapped: %T", p)
	}
	if WrapCredentials(nil) != nil {
		t.Error("nil provider was wrapped")
	}
	static := credentials.NewStaticCredentialsProvider("AKID", "secret", "")
	w := WrapCredentials(static)
	creds, err := w.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" {
		t.Errorf("Retrieve = %v, %v", creds, err)
	}
	if !aws.IsCredentialsProvider(w, credentials.StaticCredentialsProvider{}) {
		t.Error("wrapped provider's type is hidden")
	}
	_, err = WrapCredentials(credentials.StaticCredentialsProvider{}).Retrieve(context.Background())
	var ce *CredentialsError
	if !errors.As(err, &ce) || Classify(err, IAM).Class != Fatal {
		t.Errorf("empty static credentials: %v", err)
	}
}
