package fakecognito_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func disable(ctx context.Context, c *cip.Client, pool, username string) error {
	_, err := c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(pool), Username: aws.String(username)})
	return err
}

func getUser(ctx context.Context, c *cip.Client, pool, username string) error {
	_, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String(username)})
	return err
}

func TestQuota_ExhaustionThrottlesDeterministically(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{
		UserUpdate: fakecognito.Quota{Rate: 2, Burst: 2},
		UserRead:   fakecognito.Quota{Rate: 1, Burst: 1},
	})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
	if err := fake.CreatePool("eu-west-1_OTHER", fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := fake.AddUser("eu-west-1_OTHER", fakecognito.User{Username: "bob"}); err != nil {
		t.Fatal(err)
	}

	type step struct {
		advance   time.Duration
		call      func() error
		throttled bool
	}
	disableAlice := func() error { return disable(ctx, c, testPool, "alice") }
	disableBob := func() error { return disable(ctx, c, "eu-west-1_OTHER", "bob") }
	read := func() error { return getUser(ctx, c, testPool, "alice") }
	steps := []step{
		{0, disableAlice, false},
		{0, disableAlice, false}, // the burst of 2 is spent
		{0, disableAlice, true},
		{0, disableBob, true}, // the bucket is the account's, not the pool's
		{0, read, false},      // UserRead has its own bucket
		{0, read, true},
		{499 * time.Millisecond, disableAlice, true},
		{time.Millisecond, disableAlice, false}, // 0.5 s at 2/s refills one token
		{0, disableAlice, true},
		{10 * time.Second, disableAlice, false}, // refills to the burst, no more
		{0, disableAlice, false},
		{0, disableAlice, true},
	}
	wantThrottled := 0
	for i, st := range steps {
		fake.Advance(st.advance)
		err := st.call()
		if st.throttled {
			wantThrottled++
			if !isA[*types.TooManyRequestsException](err) {
				t.Fatalf("step %d: err = %v, want TooManyRequestsException", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if got := fake.Throttled(); got != wantThrottled {
		t.Errorf("Throttled() = %d, want %d", got, wantThrottled)
	}

	// Zero rate means unlimited.
	fake.SetQuota(fakecognito.UserUpdate, fakecognito.Quota{})
	for range 50 {
		if err := disableAlice(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFaults_Reset(t *testing.T) {
	tests := []struct {
		name         string
		opts         fakecognito.Options
		wantDisabled bool
		wantExecuted int
	}{
		{"reset before the call", fakecognito.Options{ResetProb: 1}, false, 0},
		{"reset after the call took effect", fakecognito.Options{ResetAfterProb: 1}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			fake, c, _ := newFake(t, tt.opts)
			seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
			err := disable(ctx, c, testPool, "alice")
			if err == nil {
				t.Fatal("AdminDisableUser succeeded through a reset")
			}
			if code := errorCode(err); code != "" {
				t.Fatalf("err = %v: an API error %s, want a transport error", err, code)
			}
			u, _ := fake.User(testPool, "alice")
			if u.Disabled != tt.wantDisabled {
				t.Errorf("disabled = %v, want %v", u.Disabled, tt.wantDisabled)
			}
			if fake.Calls("AdminDisableUser") != 1 || fake.Executed("AdminDisableUser") != tt.wantExecuted {
				t.Errorf("Calls %d Executed %d, want 1 and %d", fake.Calls("AdminDisableUser"), fake.Executed("AdminDisableUser"), tt.wantExecuted)
			}
		})
	}
}

func TestFaults_SeedDecidesWhichCallsFail(t *testing.T) {
	outcomes := func(seed int64) []string {
		ctx := context.Background()
		fake, c, _ := newFake(t, fakecognito.Options{Seed: seed, ThrottleProb: 0.3, ErrorProb: 0.2})
		seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
		var got []string
		for range 40 {
			got = append(got, errorCode(getUser(ctx, c, testPool, "alice")))
		}
		return got
	}
	a, b, other := outcomes(7), outcomes(7), outcomes(8)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, other) {
		t.Errorf("seeds 7 and 8 gave the same 40 outcomes: %v", a)
	}
	counts := map[string]int{}
	for _, code := range a {
		counts[code]++
	}
	if counts["TooManyRequestsException"] == 0 || counts["InternalErrorException"] == 0 || counts[""] == 0 {
		t.Errorf("outcomes %v: want throttles, internal errors and successes", counts)
	}
}

func TestFaults_OnlyFaultOps(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		faultOps     []string
		createFails  bool
		disableFails bool
	}{
		{"seeding calls are spared by default", nil, false, true},
		{"FaultOps names the ops", []string{"AdminCreateUser"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, _ := newFake(t, fakecognito.Options{ThrottleProb: 1, FaultOps: tt.faultOps})
			seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
			_, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(testPool), Username: aws.String("bob")})
			if (err != nil) != tt.createFails {
				t.Errorf("AdminCreateUser err = %v, want failure %v", err, tt.createFails)
			}
			err = disable(ctx, c, testPool, "alice")
			if (err != nil) != tt.disableFails {
				t.Errorf("AdminDisableUser err = %v, want failure %v", err, tt.disableFails)
			}
		})
	}
}

func TestFaults_SettersApplyMidRun(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
	tests := []struct {
		name string
		set  func()
		code string
	}{
		{"fault-free", func() {}, ""},
		{"throttle", func() { fake.SetThrottleProb(1) }, "TooManyRequestsException"},
		{"internal error", func() { fake.SetThrottleProb(0); fake.SetErrorProb(1) }, "InternalErrorException"},
		{"denied", func() { fake.SetErrorProb(0); fake.SetDenyOps([]string{"AdminGetUser"}) }, "AccessDeniedException"},
		{"bad credentials", func() { fake.SetDenyOps(nil); fake.SetRejectCredentials(true) }, "UnrecognizedClientException"},
		{"healed", func() { fake.SetRejectCredentials(false) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.set()
			if got := errorCode(getUser(ctx, c, testPool, "alice")); got != tt.code {
				t.Errorf("error code = %q, want %q", got, tt.code)
			}
		})
	}
}

func TestIAM_DenyOpsAndRejectCredentials(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{DenyOps: []string{"AdminDeleteUser"}})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})

	_, err := c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")})
	if errorCode(err) != "AccessDeniedException" {
		t.Fatalf("err = %v, want AccessDeniedException", err)
	}
	if want := "is not authorized to perform: cognito-idp:AdminDeleteUser"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q lacks %q", err, want)
	}
	if _, ok := fake.User(testPool, "alice"); !ok {
		t.Error("a denied delete deleted the user")
	}
	if err := disable(ctx, c, testPool, "alice"); err != nil {
		t.Errorf("AdminDisableUser is not denied: %v", err)
	}

	// Token calls use no IAM credentials, so bad credentials do not stop them.
	fake.SetRejectCredentials(true)
	if err := fake.AddUser(testPool, fakecognito.User{Username: "bob"}); err != nil {
		t.Fatal(err)
	}
	token := fake.IssueToken(testPool, "bob")
	if err := getUser(ctx, c, testPool, "bob"); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("AdminGetUser err = %v, want UnrecognizedClientException", err)
	}
	if _, err := c.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: aws.String(token)}); err != nil {
		t.Errorf("DeleteUser with bad IAM credentials: %v", err)
	}
}

func TestLatency_HonoursCancellation(t *testing.T) {
	fake := fakecognito.New(fakecognito.Options{Latency: time.Minute})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
	hs := httptest.NewServer(fake)
	defer hs.Close()
	c := sdkClient(hs.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := disable(ctx, c, testPool, "alice")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context deadline", err)
	}
	// Close waits for running handlers: a handler still sleeping out its
	// minute would hold it.
	start := time.Now()
	hs.Close()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the handler kept sleeping %v after its client left", d)
	}
	if u, _ := fake.User(testPool, "alice"); u.Disabled {
		t.Error("the abandoned call was executed")
	}
}

func TestLatency_Delays(t *testing.T) {
	fake, c, _ := newFake(t, fakecognito.Options{Latency: 30 * time.Millisecond, LatencyJitter: 10 * time.Millisecond})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
	start := time.Now()
	if err := getUser(context.Background(), c, testPool, "alice"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("call took %v, want at least the 30ms latency", d)
	}
}

func TestCounters(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{UserUpdate: fakecognito.Quota{Rate: 1, Burst: 2}})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"}, fakecognito.User{Username: "bob"})

	_ = disable(ctx, c, testPool, "alice")  // executed
	_ = disable(ctx, c, testPool, "nobody") // not found: a call, not executed
	_ = disable(ctx, c, testPool, "bob")    // throttled
	_ = getUser(ctx, c, testPool, "bob")

	tests := []struct {
		name string
		got  int
		want int
	}{
		{"Calls(AdminDisableUser)", fake.Calls("AdminDisableUser"), 3},
		{"Executed(AdminDisableUser)", fake.Executed("AdminDisableUser"), 1},
		{"Calls(AdminGetUser)", fake.Calls("AdminGetUser"), 1},
		{"Executed(AdminGetUser)", fake.Executed("AdminGetUser"), 1},
		{"Throttled", fake.Throttled(), 1},
		{"Calls of an op never called", fake.Calls("AdminDeleteUser"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
			}
		})
	}
	if st := fake.Stats(); st.Calls["AdminDisableUser"] != 3 || st.Throttled != 1 {
		t.Errorf("Stats = %+v", st)
	}
	fake.Reset()
	if fake.Calls("AdminDisableUser") != 0 || fake.Executed("AdminDisableUser") != 0 || fake.Throttled() != 0 {
		t.Error("Reset left counters")
	}
	if u, _ := fake.User(testPool, "alice"); !u.Disabled {
		t.Error("Reset changed state")
	}
}

func TestConcurrentCallsAreSafe(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{ThrottleProb: 0.2, Seed: 3})
	var seed []fakecognito.User
	for i := range 40 {
		seed = append(seed, fakecognito.User{Username: fmt.Sprintf("u%02d", i)})
	}
	seedPool(t, fake, fakecognito.PoolOptions{}, seed...)
	errs := make(chan error, len(seed))
	for _, u := range seed {
		go func() {
			for {
				err := disable(ctx, c, testPool, u.Username)
				if !isA[*types.TooManyRequestsException](err) {
					errs <- err
					return
				}
			}
		}()
	}
	for range seed {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range fake.Users(testPool) {
		if !u.Disabled {
			t.Errorf("%s is not disabled", u.Username)
		}
	}
	if fake.Executed("AdminDisableUser") != len(seed) || fake.Calls("AdminDisableUser") != len(seed)+fake.Throttled() {
		t.Errorf("Executed %d Calls %d Throttled %d", fake.Executed("AdminDisableUser"), fake.Calls("AdminDisableUser"), fake.Throttled())
	}
}
