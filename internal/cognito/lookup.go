package cognito

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// MaxListLimit is the largest page ListUsers and AdminListGroupsForUser
// return.
const MaxListLimit = 60

// EmailSignIn reports whether admin calls of the pool accept a user's email
// as the Username: email is one of its username attributes (users sign up
// with their email) or an alias attribute.
func (p Pool) EmailSignIn() bool {
	return slices.Contains(p.UsernameAttributes, "email") || slices.Contains(p.AliasAttributes, "email")
}

// EmailFilter is the ListUsers filter for the users whose email is exactly
// email. A backslash or a double quote in the value is escaped, so no input
// can close the quoted string and add to the filter. (ValidEmail already
// refuses both; this holds even when it is not called.)
func EmailFilter(email string) string {
	var b strings.Builder
	b.Grow(len(email) + 12)
	b.WriteString(`email = "`)
	for i := 0; i < len(email); i++ {
		if c := email[i]; c == '\\' || c == '"' {
			b.WriteByte('\\')
		}
		b.WriteByte(email[i])
	}
	b.WriteByte('"')
	return b.String()
}

// FindByEmail calls ListUsers once with EmailFilter(email) and returns the
// usernames of the matching users on that page (at most MaxListLimit) and
// the token of the next page, "" after the last. token is the previous
// page's, "" for the first.
func (c *Client) FindByEmail(ctx context.Context, pool, email, token string) (usernames []string, next, reqID string, err error) {
	filter := EmailFilter(email)
	in := &cip.ListUsersInput{
		UserPoolId: &pool,
		Filter:     &filter,
		Limit:      aws.Int32(MaxListLimit),
		// Only the username is needed: ask for one small attribute rather
		// than every attribute of the user.
		AttributesToGet: []string{"sub"},
	}
	if token != "" {
		in.PaginationToken = &token
	}
	out, err := c.api.ListUsers(ctx, in)
	if err != nil {
		return nil, "", "", err
	}
	for _, u := range out.Users {
		usernames = append(usernames, aws.ToString(u.Username))
	}
	return usernames, aws.ToString(out.PaginationToken), requestID(out.ResultMetadata), nil
}

// UserGroups calls AdminListGroupsForUser, following pages, and returns the
// names of the user's groups.
func (c *Client) UserGroups(ctx context.Context, pool, username string) (groups []string, reqID string, err error) {
	var token *string
	for {
		out, err := c.api.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{
			UserPoolId: &pool, Username: &username, Limit: aws.Int32(MaxListLimit), NextToken: token,
		})
		if err != nil {
			return nil, "", err
		}
		for _, g := range out.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
		reqID = requestID(out.ResultMetadata)
		if aws.ToString(out.NextToken) == "" {
			return groups, reqID, nil
		}
		token = out.NextToken
	}
}
