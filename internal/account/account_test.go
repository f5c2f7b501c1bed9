package account_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/account"
	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

var epoch = time.Date(2024, 6, 1, 12, 0, 30, 0, time.UTC)

// reader is the SDK-backed Reader against a fake on a frozen clock.
func reader(t *testing.T, opts fakecognito.Options) (*fakecognito.Server, *account.Reader) {
	t.Helper()
	opts.Now = func() time.Time { return epoch }
	fake := fakecognito.New(opts)
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	r := account.New(emulator.AWSConfig(), account.Endpoints{Quotas: hs.URL, Metrics: hs.URL})
	r.Now = fake.Now
	return fake, r
}

func TestReadQuota(t *testing.T) {
	tests := []struct {
		name        string
		opts        fakecognito.Options
		category    account.Category
		want        account.Quota
		wantPerm    string
		wantUnavail bool
	}{
		{name: "bought UserUpdate", opts: fakecognito.Options{AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserUpdate: 100}},
			category: account.UserUpdate, want: account.Quota{Category: account.UserUpdate, Applied: 100, Default: 25, Known: true}},
		{name: "UserCreation by code", category: account.UserCreation, want: account.Quota{Category: account.UserCreation, Applied: 50, Default: 50, Known: true}},
		{name: "UserRead by name in the listing", opts: fakecognito.Options{AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserRead: 200}},
			category: account.UserRead, want: account.Quota{Category: account.UserRead, Applied: 200, Default: 120, Known: true}},
		{name: "denied", opts: fakecognito.Options{DenyOps: []string{"GetServiceQuota"}}, category: account.UserUpdate,
			want: account.Quota{Category: account.UserUpdate, Applied: 25, Default: 25}, wantPerm: "servicequotas:GetServiceQuota", wantUnavail: true},
		{name: "listing denied", opts: fakecognito.Options{DenyOps: []string{"ListServiceQuotas"}}, category: account.UserRead,
			want: account.Quota{Category: account.UserRead, Applied: 120, Default: 120}, wantPerm: "servicequotas:ListServiceQuotas", wantUnavail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := reader(t, tt.opts)
			got, err := r.ReadQuota(t.Context(), tt.category)
			if got != tt.want {
				t.Errorf("quota %+v, want %+v", got, tt.want)
			}
			var un *account.Unavailable
			if errors.As(err, &un) != tt.wantUnavail || (un != nil && un.Permission != tt.wantPerm) {
				t.Errorf("error %v, want unavailable %v naming %q", err, tt.wantUnavail, tt.wantPerm)
			}
		})
	}
}

func TestReadQuota_UnknownService(t *testing.T) {
	// moto's Service Quotas knows no cognito-idp: NoSuchResourceException
	// for every code. Defaults, and no permission named.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"NoSuchResourceException","message":"This service is not available in the current Region."}`))
	}))
	defer hs.Close()
	r := account.New(emulator.AWSConfig(), account.Endpoints{Quotas: hs.URL, Metrics: hs.URL})
	q, err := r.ReadQuota(t.Context(), account.UserUpdate)
	var un *account.Unavailable
	if !errors.As(err, &un) || un.Permission != "" || q.Applied != 25 || q.Known {
		t.Errorf("got %+v, %v", q, err)
	}
}

func TestReadUsage(t *testing.T) {
	tests := []struct {
		name             string
		seed             func(*fakecognito.Server)
		opts             fakecognito.Options
		wantPeak, wantMn float64
		wantPerm         string
		wantUnavail      bool
	}{
		{name: "production at 20/s for the last 20 minutes", seed: func(f *fakecognito.Server) {
			f.SeedUsage(fakecognito.UserUpdate, 20*time.Minute, 20, 0)
		}, wantPeak: 20, wantMn: 20.0 / 3},
		{name: "empty metric", wantUnavail: true},
		{name: "denied", opts: fakecognito.Options{DenyOps: []string{"GetMetricData"}}, wantPerm: "cloudwatch:GetMetricData", wantUnavail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, r := reader(t, tt.opts)
			if tt.seed != nil {
				tt.seed(fake)
			}
			u, err := r.ReadUsage(t.Context(), account.UserUpdate, time.Hour)
			var un *account.Unavailable
			if errors.As(err, &un) != tt.wantUnavail || (un != nil && un.Permission != tt.wantPerm) {
				t.Fatalf("error %v, want unavailable %v naming %q", err, tt.wantUnavail, tt.wantPerm)
			}
			if u.Known == tt.wantUnavail || !near(u.Peak, tt.wantPeak) || !near(u.Mean, tt.wantMn) {
				t.Errorf("usage %+v, want peak %v mean %v", u, tt.wantPeak, tt.wantMn)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestPlan(t *testing.T) {
	q25 := account.Quota{Applied: 25, Default: 25, Known: true}
	tests := []struct {
		name     string
		q        account.Quota
		u        account.Usage
		rows     int
		wantFree float64
		wantDur  time.Duration
	}{
		{name: "usage unknown: half the quota", q: q25, rows: 1250, wantFree: 12.5, wantDur: 100 * time.Second},
		{name: "busy production", q: q25, u: account.Usage{Peak: 20, Known: true}, rows: 450, wantFree: 4.5, wantDur: 100 * time.Second},
		{name: "bought quota, light production", q: account.Quota{Applied: 100, Known: true}, u: account.Usage{Peak: 10, Known: true}, rows: 1215, wantFree: 81, wantDur: 15 * time.Second},
		{name: "production over the quota: a trickle", q: q25, u: account.Usage{Peak: 30, Known: true}, rows: 10, wantFree: 1, wantDur: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := account.Plan(tt.q, tt.u, tt.rows, 1)
			if !near(got.Free, tt.wantFree) || got.Duration != tt.wantDur {
				t.Errorf("Plan = %+v, want free %v in %v", got, tt.wantFree, tt.wantDur)
			}
		})
	}
}
