package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
)

// Quota is a category's request-rate quota, requests per second.
type Quota struct {
	Category Category `json:"category"`
	// Applied is what the account may call: its default, or what it bought.
	Applied float64 `json:"applied"`
	// Default is AWS's default for the category.
	Default float64 `json:"default"`
	// Known is false when Applied and Default are assumed (Defaults).
	Known bool `json:"known"`
}

// ReadQuota reads c's applied and default quota. A category with a known
// code is read with GetServiceQuota (and GetAWSDefaultServiceQuota, whose
// failure only leaves Default assumed); another is found by its name in
// ListServiceQuotas. On an *Unavailable the Quota holds the defaults. A
// context that ended is returned as is: the run is stopping.
func (r *Reader) ReadQuota(ctx context.Context, c Category) (Quota, error) {
	q := Quota{Category: c, Applied: Defaults[c], Default: Defaults[c]}
	what := "the " + string(c) + " quota"
	if r.Quotas == nil {
		return q, &Unavailable{What: what, Err: errors.New("no Service Quotas client")}
	}
	code, ok := knownCodes[c]
	if !ok {
		return r.listQuota(ctx, q, what)
	}
	out, err := r.Quotas.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String(ServiceCode), QuotaCode: aws.String(code)})
	if err != nil {
		return q, r.fail(ctx, what, PermQuota, err)
	}
	if out.Quota == nil || out.Quota.Value == nil || *out.Quota.Value <= 0 {
		return q, &Unavailable{What: what, Err: fmt.Errorf("GetServiceQuota %s answered no value", code)}
	}
	q.Applied, q.Known = *out.Quota.Value, true
	def, err := r.Quotas.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String(ServiceCode), QuotaCode: aws.String(code)})
	if err == nil && def.Quota != nil && def.Quota.Value != nil {
		q.Default = *def.Quota.Value
	} else if ctx.Err() != nil {
		return q, ctx.Err()
	}
	return q, nil
}

// listQuota finds c by name among the service's quotas.
func (r *Reader) listQuota(ctx context.Context, q Quota, what string) (Quota, error) {
	name := quotaName(q.Category)
	in := &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String(ServiceCode)}
	for range maxPages {
		out, err := r.Quotas.ListServiceQuotas(ctx, in)
		if err != nil {
			return q, r.fail(ctx, what, PermList, err)
		}
		for _, sq := range out.Quotas {
			if aws.ToString(sq.QuotaName) == name && sq.Value != nil && *sq.Value > 0 {
				q.Applied, q.Known = *sq.Value, true
				return q, nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return q, &Unavailable{What: what, Err: fmt.Errorf("ListServiceQuotas %s has no quota named %q", ServiceCode, name)}
}

// maxPages bounds a listing's pages: a service has a few dozen quotas.
const maxPages = 20

func (r *Reader) fail(ctx context.Context, what, perm string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return unavailable(what, perm, err)
}
