package fakecognito_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// epoch is the fake clock's start in every test that does not set its own.
var epoch = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

const testPool = "us-east-1_TEST00001"

// newFake serves a fake on a frozen clock (moved only by Advance) and returns
// the real SDK client pointed at it, with SDK retries off so every fault
// reaches the test.
func newFake(t *testing.T, opts fakecognito.Options) (*fakecognito.Server, *cip.Client, string) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return epoch }
	}
	fake := fakecognito.New(opts)
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	return fake, sdkClient(hs.URL), hs.URL
}

// sdkClient is the real SDK client for the fake at url, with SDK retries off
// so every fault reaches the test.
func sdkClient(url string) *cip.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:  &http.Client{Transport: plainBodyTransport{http.DefaultTransport.(*http.Transport).Clone()}},
	}
	return cip.NewFromConfig(cfg, func(o *cip.Options) { o.BaseEndpoint = aws.String(url) })
}

// plainBodyTransport works around a race in smithy-go (v1.28.9): the SDK
// closes the request body as soon as the response headers arrive, and its
// body's WriteTo then returns io.EOF as an error. When net/http is still
// doing its last read of the body (a fast server answers first), it takes
// that for a body read error and closes the connection under the response
// being read: "use of closed network connection" on large ListUsers pages,
// mostly under -race. Hiding WriteTo makes that last read a plain Read,
// which returns (0, io.EOF) and ends the write normally.
type plainBodyTransport struct{ base http.RoundTripper }

func (t plainBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return t.base.RoundTrip(req)
}

// seedPool creates testPool with the given users (plain usernames).
func seedPool(t *testing.T, fake *fakecognito.Server, opts fakecognito.PoolOptions, users ...fakecognito.User) {
	t.Helper()
	if err := fake.CreatePool(testPool, opts); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if err := fake.AddUser(testPool, u); err != nil {
			t.Fatal(err)
		}
	}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
