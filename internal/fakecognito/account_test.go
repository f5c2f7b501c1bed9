package fakecognito_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"

	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// accountClients are the real SDK clients of Service Quotas and CloudWatch
// pointed at a fake on a frozen clock.
func accountClients(t *testing.T, opts fakecognito.Options) (*fakecognito.Server, *servicequotas.Client, *cloudwatch.Client) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return epoch }
	}
	fake := fakecognito.New(opts)
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	cfg := emulator.AWSConfig()
	sq := servicequotas.NewFromConfig(cfg, func(o *servicequotas.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	return fake, sq, cw
}

func TestServiceQuotas_AppliedAndDefault(t *testing.T) {
	tests := []struct {
		name             string
		applied          map[fakecognito.Category]float64
		code             string
		wantApplied, def float64
	}{
		{name: "UserUpdate default", code: "L-6621E65D", wantApplied: 25, def: 25},
		{name: "UserUpdate bought", applied: map[fakecognito.Category]float64{fakecognito.UserUpdate: 100}, code: "L-6621E65D", wantApplied: 100, def: 25},
		{name: "UserCreation", code: "L-5987B8A0", wantApplied: 50, def: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sq, _ := accountClients(t, fakecognito.Options{AppliedQuotas: tt.applied})
			got, err := sq.GetServiceQuota(t.Context(), &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("cognito-idp"), QuotaCode: aws.String(tt.code)})
			if err != nil {
				t.Fatal(err)
			}
			if v := aws.ToFloat64(got.Quota.Value); v != tt.wantApplied {
				t.Errorf("applied = %v, want %v", v, tt.wantApplied)
			}
			def, err := sq.GetAWSDefaultServiceQuota(t.Context(), &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String("cognito-idp"), QuotaCode: aws.String(tt.code)})
			if err != nil {
				t.Fatal(err)
			}
			if v := aws.ToFloat64(def.Quota.Value); v != tt.def {
				t.Errorf("default = %v, want %v", v, tt.def)
			}
		})
	}
}

func TestServiceQuotas_ListNamesEveryCategory(t *testing.T) {
	_, sq, _ := accountClients(t, fakecognito.Options{AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserRead: 300}})
	out, err := sq.ListServiceQuotas(t.Context(), &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("cognito-idp")})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]float64{}
	for _, q := range out.Quotas {
		byName[aws.ToString(q.QuotaName)] = aws.ToFloat64(q.Value)
	}
	want := map[string]float64{"Rate of UserUpdate requests": 25, "Rate of UserCreation requests": 50, "Rate of UserRead requests": 300, "Rate of UserList requests": 30}
	for n, v := range want {
		if byName[n] != v {
			t.Errorf("%s = %v, want %v (all: %v)", n, byName[n], v, byName)
		}
	}
}

func TestServiceQuotas_Errors(t *testing.T) {
	tests := []struct {
		name    string
		opts    fakecognito.Options
		service string
		want    string
	}{
		{name: "unknown service", service: "vpc", want: "NoSuchResourceException"},
		{name: "denied", opts: fakecognito.Options{DenyOps: []string{"GetServiceQuota"}}, service: "cognito-idp", want: "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sq, _ := accountClients(t, tt.opts)
			_, err := sq.GetServiceQuota(t.Context(), &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String(tt.service), QuotaCode: aws.String("L-6621E65D")})
			if got := errorCode(err); got != tt.want {
				t.Errorf("error code = %q (%v), want %s", got, err, tt.want)
			}
		})
	}
}

func usageQuery(id, metric string, category fakecognito.Category) cwtypes.MetricDataQuery {
	dims := []cwtypes.Dimension{
		{Name: aws.String("Service"), Value: aws.String("Cognito user pool")},
		{Name: aws.String("Type"), Value: aws.String("API")},
		{Name: aws.String("Resource"), Value: aws.String(string(category))},
		{Name: aws.String("Class"), Value: aws.String("None")},
	}
	return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Usage"), MetricName: aws.String(metric), Dimensions: dims},
		Period: aws.Int32(60), Stat: aws.String("Sum"),
	}}
}

func TestCloudWatch_UsageFromSeededHistoryAndLiveCalls(t *testing.T) {
	fake, _, cw := accountClients(t, fakecognito.Options{UserUpdate: fakecognito.Quota{Rate: 25, Burst: 25}})
	fake.SeedUsage(fakecognito.UserUpdate, 20*time.Minute, 20, 0.5)
	out, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(epoch.Add(-time.Hour)), EndTime: aws.Time(epoch),
		MetricDataQueries: []cwtypes.MetricDataQuery{usageQuery("calls", "CallCount", fakecognito.UserUpdate), usageQuery("thr", "ThrottleCount", fakecognito.UserUpdate), usageQuery("reads", "CallCount", fakecognito.UserRead)},
	})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]cwtypes.MetricDataResult{}
	for _, r := range out.MetricDataResults {
		byID[aws.ToString(r.Id)] = r
	}
	calls := byID["calls"]
	if len(calls.Values) != 20 || calls.Values[0] != 1200 || len(calls.Timestamps) != 20 {
		t.Fatalf("CallCount: %d values %v", len(calls.Values), calls.Values)
	}
	if newest := calls.Timestamps[0]; !newest.Equal(epoch.Add(-time.Minute)) {
		t.Errorf("newest point at %v, want %v (newest first)", newest, epoch.Add(-time.Minute))
	}
	if thr := byID["thr"]; len(thr.Values) != 20 || thr.Values[0] != 30 {
		t.Errorf("ThrottleCount: %v", thr.Values)
	}
	if reads := byID["reads"]; len(reads.Values) != 0 {
		t.Errorf("UserRead has no history, got %v", reads.Values)
	}

	// Production's calls on the fake's clock count too, once their minute ended.
	ctx, stop := context.WithCancel(t.Context())
	done := fake.StartProduction(ctx, []fakecognito.Step{{Rate: 1000}})
	deadline := time.Now().Add(5 * time.Second)
	for fake.ProductionServed()+fake.ProductionThrottled() < 50 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop()
	<-done
	fake.Advance(time.Minute)
	out, err = cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(epoch), EndTime: aws.Time(epoch.Add(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{usageQuery("calls", "CallCount", fakecognito.UserUpdate)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := out.MetricDataResults[0].Values; len(v) != 1 || v[0] < 50 {
		t.Errorf("production's minute: %v, want one point of at least 50 calls", v)
	}
}

func TestCloudWatch_Errors(t *testing.T) {
	tests := []struct {
		name string
		opts fakecognito.Options
		want string
	}{
		{name: "denied", opts: fakecognito.Options{DenyOps: []string{"GetMetricData"}}, want: "AccessDenied"},
		{name: "bad credentials", opts: fakecognito.Options{RejectCredentials: true}, want: "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, cw := accountClients(t, tt.opts)
			_, err := cw.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(epoch.Add(-time.Hour)), EndTime: aws.Time(epoch),
				MetricDataQueries: []cwtypes.MetricDataQuery{usageQuery("calls", "CallCount", fakecognito.UserUpdate)},
			})
			if got := errorCode(err); got != tt.want {
				t.Errorf("error code = %q (%v), want %s", got, err, tt.want)
			}
		})
	}
}
