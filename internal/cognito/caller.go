package cognito

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Caller is who the run's credentials say they are (STS GetCallerIdentity).
type Caller struct {
	ARN     string `json:"arn"`
	Account string `json:"account"`
	UserID  string `json:"user_id"`
}

// CallerIdentity calls STS GetCallerIdentity with the client's credentials.
// The call needs no IAM permission, so it tests only that the credentials
// work. endpoint, when set, overrides the SDK's endpoint for STS; the
// Cognito endpoint override never applies to it, and the SDK honours
// AWS_ENDPOINT_URL_STS by itself.
func (c *Client) CallerIdentity(ctx context.Context, endpoint string) (Caller, error) {
	api := sts.NewFromConfig(c.cfg, func(o *sts.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.Retryer = aws.NopRetryer{}
	})
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, err
	}
	return Caller{ARN: aws.ToString(out.Arn), Account: aws.ToString(out.Account), UserID: aws.ToString(out.UserId)}, nil
}
