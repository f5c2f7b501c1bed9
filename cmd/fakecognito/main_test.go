package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func TestRun_BadFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"help", []string{"--help"}, 0, "-url-file file"},
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"probability above 1", []string{"--throttle", "1.5"}, 2, "between 0 and 1"},
		{"probabilities adding up above 1", []string{"--throttle", "0.6", "--error", "0.6"}, 2, "at most 1"},
		{"negative quota", []string{"--quota", "-1"}, 2, "--quota"},
		{"stray argument", []string{"users.csv"}, 2, "unexpected argument"},
		{"unknown production pattern", []string{"--production", "5", "--production-pattern", "random"}, 2, "want even, poisson or bursty"},
		{"burst above 100", []string{"--quota", "25", "--burst", "101"}, 2, "--burst 101"},
		{"negative burst", []string{"--quota", "25", "--burst", "-1"}, 2, "--burst -1"},
		{"missing seed file", []string{"--seed", "/nonexistent/users.csv"}, 1, "open seed"},
		{"bad pool id", []string{"--pool", "nope"}, 1, "invalid pool id"},
		{"negative applied quota", []string{"--applied-quota", "-5"}, 2, "--applied-quota -5"},
		{"history without a span", []string{"--production-history", "20"}, 2, "want RATE:DURATION"},
		{"history shorter than a minute", []string{"--production-history", "20:30s"}, 2, "a minute or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			out := stderr.String()
			if tt.wantCode == 0 {
				out = stdout.String() // help goes to stdout
			}
			if !strings.Contains(out, tt.wantErr) {
				t.Errorf("output %q lacks %q", out, tt.wantErr)
			}
		})
	}
}

func TestParseFlags_Production(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantPattern fakecognito.Pattern
		wantQuota   fakecognito.Quota
	}{
		{"defaults: even, one second of quota deep", []string{"--quota", "25"}, fakecognito.Even, fakecognito.Quota{Rate: 25, Burst: 25}},
		{"poisson", []string{"--production-pattern", "poisson"}, fakecognito.Poisson, fakecognito.Quota{}},
		{"bursty", []string{"--production-pattern", "bursty"}, fakecognito.Bursty, fakecognito.Quota{}},
		{"a shallow bucket", []string{"--quota", "25", "--burst", "1"}, fakecognito.Even, fakecognito.Quota{Rate: 25, Burst: 1}},
		{"a deep bucket", []string{"--quota", "25", "--burst", "100"}, fakecognito.Even, fakecognito.Quota{Rate: 25, Burst: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if o.pattern != tt.wantPattern {
				t.Errorf("pattern %v, want %v", o.pattern, tt.wantPattern)
			}
			if q := quota(o.quota, o.burst); q != tt.wantQuota {
				t.Errorf("UserUpdate quota %+v, want %+v", q, tt.wantQuota)
			}
		})
	}
}

// syncBuffer lets the test read what run writes from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRun_ServesSeededPoolUntilCancelled(t *testing.T) {
	urlFile := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{
			"--seed", "../../fixtures/fakecognito/demo/users.csv", "--pool", "eu-west-1_EMPTY",
			"--quota", "1", "--url-file", urlFile,
		}, &stdout, &stderr)
	}()

	var url string
	deadline := time.Now().Add(10 * time.Second)
	for url == "" {
		select {
		case code := <-exited:
			t.Fatalf("exited %d before listening: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no url file after 10 s")
		}
		if b, err := os.ReadFile(urlFile); err == nil {
			url = strings.TrimSpace(string(b))
		} else {
			time.Sleep(10 * time.Millisecond) // polling with a deadline
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("url = %q", url)
	}
	if want := "listening on " + url + "\n"; stdout.String() != want {
		t.Errorf("stdout = %q, want %q", stdout.String(), want)
	}

	c := cip.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:  cognito.PlainBody(nil),
	}, func(o *cip.Options) { o.BaseEndpoint = aws.String(url) })
	bg := context.Background()
	for pool, want := range map[string]int32{"us-east-1_DEMO00001": 40, "eu-west-1_EMPTY": 0} {
		d, err := c.DescribeUserPool(bg, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)})
		if err != nil {
			t.Fatal(err)
		}
		if d.UserPool.EstimatedNumberOfUsers != want {
			t.Errorf("%s has %d users, want %d", pool, d.UserPool.EstimatedNumberOfUsers, want)
		}
	}

	// --quota 1: one self-delete passes, the next is throttled.
	var tokens []string
	for _, name := range []string{"carol", "dave"} {
		resp, err := http.Get(url + "/_fake/token?pool=us-east-1_DEMO00001&username=" + name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("token for %s: %d %s", name, resp.StatusCode, b)
		}
		tokens = append(tokens, strings.TrimSpace(string(b)))
	}
	if _, err := c.DeleteUser(bg, &cip.DeleteUserInput{AccessToken: aws.String(tokens[0])}); err != nil {
		t.Fatal(err)
	}
	var tooMany *types.TooManyRequestsException
	if _, err := c.DeleteUser(bg, &cip.DeleteUserInput{AccessToken: aws.String(tokens[1])}); !errors.As(err, &tooMany) {
		t.Errorf("second DeleteUser: %v, want TooManyRequestsException", err)
	}

	resp, err := http.Get(url + "/_fake/stats")
	if err != nil {
		t.Fatal(err)
	}
	var stats struct {
		Calls     map[string]int `json:"calls"`
		Throttled int            `json:"throttled"`
	}
	err = json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if err != nil || stats.Calls["DeleteUser"] != 2 || stats.Throttled != 1 {
		t.Errorf("stats = %+v (%v)", stats, err)
	}

	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("exit %d after cancel, want 0 (stderr %q)", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after cancel")
	}
}

func TestParseFlags_Account(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantApplied map[fakecognito.Category]float64
		wantHistory history
	}{
		{"defaults: the default quota, no history", nil, nil, history{}},
		{"a bought quota", []string{"--quota", "100", "--applied-quota", "100"}, map[fakecognito.Category]float64{fakecognito.UserUpdate: 100}, history{}},
		{"--quota alone is not a bought quota", []string{"--quota", "100"}, nil, history{}},
		{"production's history", []string{"--production-history", "20:20m"}, nil, history{rate: 20, span: 20 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := appliedQuotas(o); !maps.Equal(got, tt.wantApplied) {
				t.Errorf("applied quotas %v, want %v", got, tt.wantApplied)
			}
			if o.history != tt.wantHistory {
				t.Errorf("history %+v, want %+v", o.history, tt.wantHistory)
			}
		})
	}
}
