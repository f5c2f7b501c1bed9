// Package account reads what the AWS account allows and what production
// uses: the applied request-rate quota of a Cognito category from Service
// Quotas, and the account's recent calls of that category from CloudWatch
// (AWS/Usage). Every read is optional: a missing permission, an endpoint
// without the service or a metric without data gives an *Unavailable and
// today's defaults, never a failed run.
//
// It may import pace; only internal/run imports it, and it makes no Cognito
// call.
package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/smithy-go"
)

// QuotaAPI is the part of Service Quotas a run calls.
type QuotaAPI interface {
	GetServiceQuota(ctx context.Context, in *servicequotas.GetServiceQuotaInput, opts ...func(*servicequotas.Options)) (*servicequotas.GetServiceQuotaOutput, error)
	GetAWSDefaultServiceQuota(ctx context.Context, in *servicequotas.GetAWSDefaultServiceQuotaInput, opts ...func(*servicequotas.Options)) (*servicequotas.GetAWSDefaultServiceQuotaOutput, error)
	ListServiceQuotas(ctx context.Context, in *servicequotas.ListServiceQuotasInput, opts ...func(*servicequotas.Options)) (*servicequotas.ListServiceQuotasOutput, error)
}

// MetricsAPI is the part of CloudWatch a run calls.
type MetricsAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var (
	_ QuotaAPI   = (*servicequotas.Client)(nil)
	_ MetricsAPI = (*cloudwatch.Client)(nil)
)

// Category is a Cognito request-rate category: UserUpdate, UserRead, ...
type Category string

// The categories a run spends.
const (
	UserUpdate   Category = "UserUpdate"
	UserRead     Category = "UserRead"
	UserCreation Category = "UserCreation"
	UserList     Category = "UserList"
)

// ServiceCode is Cognito user pools' code in Service Quotas.
const ServiceCode = "cognito-idp"

// Defaults are the default quotas (requests per second): what a run
// assumes when Service Quotas cannot be read.
var Defaults = map[Category]float64{UserUpdate: 25, UserRead: 120, UserCreation: 50, UserList: 30}

// knownCodes are the quota codes documented for Cognito's categories;
// the others are found in ListServiceQuotas by their name.
var knownCodes = map[Category]string{UserUpdate: "L-6621E65D", UserCreation: "L-5987B8A0"}

// quotaName is how Service Quotas names a category's request rate.
func quotaName(c Category) string { return "Rate of " + string(c) + " requests" }

// The IAM permissions the reads need, named in warnings.
const (
	PermQuota   = "servicequotas:GetServiceQuota"
	PermList    = "servicequotas:ListServiceQuotas"
	PermMetrics = "cloudwatch:GetMetricData"
)

// Unavailable says why a read gave no figure. The run goes on with the
// defaults; the message is one warning line.
type Unavailable struct {
	// Permission is the IAM action that was denied ("" when it was not a
	// denial).
	Permission string
	// What failed to be read, e.g. "the UserUpdate quota".
	What string
	Err  error
}

func (e *Unavailable) Error() string {
	if e.Permission != "" {
		return fmt.Sprintf("%s is unknown: the credentials may not call %s (%v); grant it (read-only, optional) to use it", e.What, e.Permission, e.Err)
	}
	return fmt.Sprintf("%s is unknown: %v", e.What, e.Err)
}

func (e *Unavailable) Unwrap() error { return e.Err }

// errNoData is a metric without data points in the window.
var errNoData = errors.New("no data points")

// unavailable classifies a failed read by its error code.
func unavailable(what, perm string, err error) *Unavailable {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDeniedException", "AccessDenied":
			return &Unavailable{Permission: perm, What: what, Err: err}
		}
	}
	return &Unavailable{What: what, Err: err}
}

// Reader reads quotas and usage. Either API may be nil: its reads are then
// unavailable.
type Reader struct {
	Quotas  QuotaAPI
	Metrics MetricsAPI
	// Now is the clock the metric window ends at (nil: time.Now).
	Now func() time.Time
}

// Endpoints override the services' endpoints ("": the SDK's resolution,
// which honours AWS_ENDPOINT_URL_SERVICE_QUOTAS and
// AWS_ENDPOINT_URL_CLOUDWATCH).
type Endpoints struct {
	Quotas, Metrics string
}

// New returns a Reader over the SDK clients of cfg. SDK retries are off as
// for Cognito: internal/retry owns retries, and a read that fails once is
// simply not used.
func New(cfg aws.Config, ep Endpoints) *Reader {
	sq := servicequotas.NewFromConfig(cfg, func(o *servicequotas.Options) {
		if ep.Quotas != "" {
			o.BaseEndpoint = aws.String(ep.Quotas)
		}
		o.Retryer = aws.NopRetryer{}
	})
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		if ep.Metrics != "" {
			o.BaseEndpoint = aws.String(ep.Metrics)
		}
		o.Retryer = aws.NopRetryer{}
	})
	return &Reader{Quotas: sq, Metrics: cw}
}

func (r *Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
