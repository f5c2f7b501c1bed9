package fakecognito_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// stsClient is the real SDK STS client for the fake at url.
func stsClient(url string) *sts.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTS", "SECRET", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:  &http.Client{Transport: plainBodyTransport{http.DefaultTransport.(*http.Transport).Clone()}},
	}
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(url) })
}

func TestSTS_GetCallerIdentity(t *testing.T) {
	tests := []struct {
		name     string
		reject   bool
		wantCode string
	}{
		{name: "credentials accepted"},
		{name: "credentials rejected", reject: true, wantCode: "InvalidClientTokenId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, cognito, url := newFake(t, fakecognito.Options{AccountID: "210987654321", RejectCredentials: tc.reject})
			out, err := stsClient(url).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			if tc.wantCode != "" {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
					t.Fatalf("err %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Arn) != "arn:aws:iam::210987654321:user/cogsweep" || aws.ToString(out.Account) != "210987654321" ||
				aws.ToString(out.UserId) != "AIDAAKIDSTS" {
				t.Fatalf("identity %s %s %s", aws.ToString(out.Arn), aws.ToString(out.Account), aws.ToString(out.UserId))
			}
			if fake.Calls("GetCallerIdentity") != 1 {
				t.Fatalf("GetCallerIdentity counted %d times", fake.Calls("GetCallerIdentity"))
			}
			// The same URL still serves Cognito.
			seedPool(t, fake, fakecognito.PoolOptions{})
			if _, err := cognito.DescribeUserPool(t.Context(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(testPool)}); err != nil {
				t.Fatalf("Cognito on the same URL: %v", err)
			}
		})
	}
}
