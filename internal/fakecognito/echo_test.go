package fakecognito_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// TestEcho_TokenReachesTheSDKsFields checks that the echo fault puts what it
// is given where the SDK reads an error's code and request id.
func TestEcho_TokenReachesTheSDKsFields(t *testing.T) {
	fake, c, _ := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
	tok := fake.IssueToken(testPool, "alice")
	tests := []struct {
		name     string
		echo     fakecognito.Echo
		code, id string
		status   int
	}{
		{"header wins", fakecognito.Echo{Header: tok, Type: "InternalErrorException", RequestID: tok}, tok, tok, 400},
		{"type without a header", fakecognito.Echo{Type: tok, Status: 500}, tok, "", 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake.SetEcho(func(got string) (fakecognito.Echo, bool) { return tc.echo, got == tok })
			_, err := c.DeleteUser(t.Context(), &cip.DeleteUserInput{AccessToken: aws.String(tok)})
			if got := errorCode(err); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.status {
				t.Fatalf("error %v, want an HTTP %d", err, tc.status)
			}
			if tc.id != "" && re.RequestID != tc.id {
				t.Errorf("request id %q, want %q", re.RequestID, tc.id)
			}
		})
	}
	fake.SetEcho(nil)
	if _, err := c.DeleteUser(t.Context(), &cip.DeleteUserInput{AccessToken: aws.String(tok)}); err != nil {
		t.Fatalf("with the echo off: %v", err)
	}
}
