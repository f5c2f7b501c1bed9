// Command peer is what `make bench` compares cogsweep with: the short
// program a user would write instead of cogsweep. It deletes the users
// named in a file (one username a line) with AdminDeleteUser from a fixed
// number of goroutines, and prints what it did as one JSON line.
//
// -mode adaptive (row 2) turns on aws-sdk-go-v2's own rate control, the
// adaptive retry mode (retry.NewAdaptiveMode: a client-side token bucket
// whose rate follows CUBIC after throttles), with 10 attempts per call and
// no retry quota (the standard retry quota runs dry under sustained
// throttling and then fails calls at once); a user whose call still fails
// is put back in the queue, so every user gets deleted.
//
// -mode bare (row 3) is the floor of the SDK and HTTP stack: the same
// client cogsweep builds (internal/cognito, SDK retries off), goroutines
// calling as fast as answers come, no limiter, no report, no checkpoint.
//
// It is a benchmark tool, never shipped.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/cognito"
)

// Result is the JSON line printed at the end.
type Result struct {
	Mode     string  `json:"mode"`
	Workers  int     `json:"workers"`
	Users    int     `json:"users"`
	Deleted  int64   `json:"deleted"`
	NotFound int64   `json:"not_found"`
	Requeued int64   `json:"requeued"` // calls that failed after every attempt
	Failed   int64   `json:"failed"`   // bare mode: calls that failed
	Seconds  float64 `json:"seconds"`
}

func main() {
	endpoint := flag.String("endpoint", "", "Cognito endpoint URL")
	pool := flag.String("pool", "", "user pool id")
	users := flag.String("users", "", "file of usernames, one a line")
	workers := flag.Int("workers", 8, "goroutines calling AdminDeleteUser")
	mode := flag.String("mode", "adaptive", "adaptive or bare")
	flag.Parse()
	if err := run(*endpoint, *pool, *users, *mode, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}

func run(endpoint, pool, path, mode string, workers int) error {
	names, err := readNames(path)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var del func(ctx context.Context, username string) error
	switch mode {
	case "adaptive":
		api, err := adaptiveClient(ctx, endpoint, workers)
		if err != nil {
			return err
		}
		del = func(ctx context.Context, username string) error {
			_, err := api.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &pool, Username: &username})
			return err
		}
	case "bare":
		cfg, err := cognito.LoadAWSConfig(ctx, cognito.Config{Region: "us-east-1", MaxConns: 64})
		if err != nil {
			return err
		}
		c := cognito.New(cfg, endpoint)
		del = func(ctx context.Context, username string) error {
			_, err := c.DeleteUser(ctx, pool, username)
			return err
		}
	default:
		return fmt.Errorf("unknown -mode %q", mode)
	}

	res := Result{Mode: mode, Workers: workers, Users: len(names)}
	queue := make(chan string, len(names))
	for _, n := range names {
		queue <- n
	}
	var left atomic.Int64
	left.Store(int64(len(names)))
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var name string
				select {
				case <-done:
					return
				case name = <-queue:
				}
				err := del(ctx, name)
				var nf *types.UserNotFoundException
				switch {
				case err == nil:
					atomic.AddInt64(&res.Deleted, 1)
				case errors.As(err, &nf):
					atomic.AddInt64(&res.NotFound, 1)
				case mode == "adaptive":
					atomic.AddInt64(&res.Requeued, 1)
					queue <- name
					continue
				default:
					atomic.AddInt64(&res.Failed, 1)
				}
				if left.Add(-1) == 0 {
					close(done)
				}
			}
		}()
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// adaptiveClient is the SDK client a user would configure for a purge:
// adaptive retry mode, connections for every goroutine.
func adaptiveClient(ctx context.Context, endpoint string, workers int) (*cip.Client, error) {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 2*workers, workers
	})
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
					so.MaxAttempts = 10
					so.RateLimiter = ratelimit.None
				})
			})
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return cip.NewFromConfig(cfg, func(o *cip.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

func readNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() != "" {
			names = append(names, sc.Text())
		}
	}
	return names, sc.Err()
}
