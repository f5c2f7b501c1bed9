// Package fakecognito is a wire-level fake of the Cognito user-pools API: an
// http.Handler that speaks awsJson1_1 the way the real aws-sdk-go-v2 client
// expects, with the real error codes, so the SDK adapter can be tested as it
// runs against AWS. Unlike the emulators it has a movable clock, server-side
// quotas, competing production traffic, and seeded faults: throttling,
// internal errors, latency and connection resets. It also serves the
// account-level reads of a run: STS GetCallerIdentity (sts.go), Service
// Quotas (account.go) and CloudWatch's usage metrics (cloudwatch.go).
package fakecognito

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server. The zero value is a fault-free, unlimited
// fake on the real clock.
type Options struct {
	// Now is the base clock (default time.Now); Advance moves the fake's time
	// ahead of it.
	Now func() time.Time
	// Seed seeds every random choice: faults, jitter, generated ids.
	Seed int64
	// Region and AccountID appear in ARNs and generated pool ids
	// (defaults us-east-1 and 123456789012).
	Region    string
	AccountID string

	// Latency is added to every call, plus a uniform random part below
	// LatencyJitter. A call whose client goes away while waiting is dropped.
	Latency       time.Duration
	LatencyJitter time.Duration

	// Fault probabilities, drawn once per call (so their sum should not
	// exceed 1). ThrottleProb answers TooManyRequestsException, ErrorProb
	// InternalErrorException (500), ResetProb closes the connection without
	// a response before doing anything, ResetAfterProb does the call and
	// then closes the connection: the client cannot tell whether it happened.
	ThrottleProb   float64
	ErrorProb      float64
	ResetProb      float64
	ResetAfterProb float64
	// FaultOps names the operations faults apply to; nil means every
	// operation except the seeding ones (CreateUserPool, AdminCreateUser,
	// CreateGroup, AdminAddUserToGroup).
	FaultOps []string

	// Request-rate quotas, shared by all pools. Zero Rate: unlimited.
	UserUpdate Quota
	UserRead   Quota
	UserList   Quota
	// AppliedQuotas is what Service Quotas reports as applied per
	// category (account.go); a category not named reports its default
	// (Quotas). It is what the account bought, independent of the buckets
	// above, which are what the fake enforces.
	AppliedQuotas map[Category]float64

	// DenyOps names IAM operations the caller's policy does not allow:
	// AccessDeniedException. Token operations (DeleteUser,
	// DeleteUserAttributes) are not subject to IAM.
	DenyOps []string
	// RejectCredentials answers every IAM call with
	// UnrecognizedClientException, as for a bad access key.
	RejectCredentials bool

	// TokenTTL is the lifetime of tokens from IssueToken (default 1 h).
	TokenTTL time.Duration
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	baseNow   func() time.Time
	offset    atomic.Int64 // nanoseconds added by Advance
	region    string
	accountID string
	tokenTTL  time.Duration
	clientID  string

	knobMu sync.RWMutex
	knobs  knobs

	faultRand  *lockedRand
	jitterRand *lockedRand
	idRand     *lockedRand

	quotaMu sync.Mutex
	buckets map[Category]bucket
	applied map[Category]float64 // Service Quotas' applied values

	usage *usage // per-minute calls of each category (CloudWatch)

	mu    sync.Mutex // guards pools and everything under them
	pools map[string]*pool

	statMu    sync.Mutex
	calls     map[string]int
	executed  map[string]int
	processed map[string]int
	throttled int

	prodServed    atomic.Int64
	prodThrottled atomic.Int64
}

// knobs are the settings tests may change mid-run.
type knobs struct {
	latency, jitter                                 time.Duration
	throttleProb, errorProb, resetProb, resetAfterP float64
	faultOps                                        map[string]bool // nil: all but seeding ops
	denyOps                                         map[string]bool
	rejectCredentials                               bool
	echo                                            EchoFunc // echo.go
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	s := &Server{
		baseNow:   opts.Now,
		region:    opts.Region,
		accountID: opts.AccountID,
		tokenTTL:  opts.TokenTTL,
		knobs: knobs{
			latency:           opts.Latency,
			jitter:            opts.LatencyJitter,
			throttleProb:      opts.ThrottleProb,
			errorProb:         opts.ErrorProb,
			resetProb:         opts.ResetProb,
			resetAfterP:       opts.ResetAfterProb,
			faultOps:          opSet(opts.FaultOps),
			denyOps:           opSet(opts.DenyOps),
			rejectCredentials: opts.RejectCredentials,
		},
		// Separate streams so that, say, turning on jitter does not change
		// which calls fail.
		faultRand:  newLockedRand(opts.Seed, 1),
		jitterRand: newLockedRand(opts.Seed, 2),
		idRand:     newLockedRand(opts.Seed, 3),
		buckets:    map[Category]bucket{},
		applied:    map[Category]float64{},
		usage:      newUsage(),
		pools:      map[string]*pool{},
		calls:      map[string]int{},
		executed:   map[string]int{},
		processed:  map[string]int{},
	}
	if s.baseNow == nil {
		s.baseNow = time.Now
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.accountID == "" {
		s.accountID = "123456789012"
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = time.Hour
	}
	s.clientID = s.idRand.alnum(26, true)
	for c, v := range opts.AppliedQuotas {
		s.applied[c] = v
	}
	now := s.Now()
	s.buckets[UserUpdate] = newBucket(opts.UserUpdate, now)
	s.buckets[UserRead] = newBucket(opts.UserRead, now)
	s.buckets[UserList] = newBucket(opts.UserList, now)
	return s
}

func opSet(ops []string) map[string]bool {
	if ops == nil {
		return nil
	}
	m := make(map[string]bool, len(ops))
	for _, op := range ops {
		m[op] = true
	}
	return m
}

// Now is the fake's current time: the base clock plus every Advance.
func (s *Server) Now() time.Time {
	return s.baseNow().Add(time.Duration(s.offset.Load()))
}

// Advance moves the fake's clock forward by d, ageing users and tokens and
// refilling quota buckets.
func (s *Server) Advance(d time.Duration) { s.offset.Add(int64(d)) }

func (s *Server) setKnobs(f func(k *knobs)) {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	f(&s.knobs)
}

// SetLatency changes the per-call latency and its jitter.
func (s *Server) SetLatency(latency, jitter time.Duration) {
	s.setKnobs(func(k *knobs) { k.latency, k.jitter = latency, jitter })
}

// SetThrottleProb changes the probability of an injected TooManyRequestsException.
func (s *Server) SetThrottleProb(p float64) { s.setKnobs(func(k *knobs) { k.throttleProb = p }) }

// SetErrorProb changes the probability of an injected InternalErrorException.
func (s *Server) SetErrorProb(p float64) { s.setKnobs(func(k *knobs) { k.errorProb = p }) }

// SetResetProb changes the probability of a connection reset before the call.
func (s *Server) SetResetProb(p float64) { s.setKnobs(func(k *knobs) { k.resetProb = p }) }

// SetResetAfterProb changes the probability of a connection reset after the
// call took effect.
func (s *Server) SetResetAfterProb(p float64) { s.setKnobs(func(k *knobs) { k.resetAfterP = p }) }

// SetFaultOps changes which operations faults apply to (nil: all but seeding ops).
func (s *Server) SetFaultOps(ops []string) { s.setKnobs(func(k *knobs) { k.faultOps = opSet(ops) }) }

// SetDenyOps changes which IAM operations are denied.
func (s *Server) SetDenyOps(ops []string) { s.setKnobs(func(k *knobs) { k.denyOps = opSet(ops) }) }

// SetRejectCredentials turns UnrecognizedClientException for IAM calls on or off.
func (s *Server) SetRejectCredentials(reject bool) {
	s.setKnobs(func(k *knobs) { k.rejectCredentials = reject })
}

func (s *Server) currentKnobs() knobs {
	s.knobMu.RLock()
	defer s.knobMu.RUnlock()
	return s.knobs
}

const targetPrefix = "AWSCognitoIdentityProviderService."

// ServeHTTP answers one awsJson1_1 request, or an STS GetCallerIdentity
// (awsQuery; see sts.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case isQueryRequest(r):
		s.serveQuery(w, r) // STS (sts.go)
		return
	case isServiceQuotas(r):
		s.serveServiceQuotas(w, r) // account.go
		return
	case isCloudWatch(r):
		s.serveCloudWatch(w, r) // cloudwatch.go
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, _ := strings.CutPrefix(target, targetPrefix)
	s.countCall(op)
	reqID := s.idRand.uuid()

	spec, known := operations[op]
	if r.Method != http.MethodPost || !known || !strings.HasPrefix(target, targetPrefix) {
		writeError(w, reqID, clientErr(codeUnknownOperation, "Unknown operation"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return // the client went away
	}
	k := s.currentKnobs()
	if !s.delay(r.Context(), k) {
		return
	}
	if !spec.token {
		if k.rejectCredentials {
			writeError(w, reqID, clientErr(codeUnrecognized, msgBadCredentials))
			return
		}
		if k.denyOps[op] {
			writeError(w, reqID, clientErr(codeAccessDenied,
				"User: arn:aws:iam::%s:user/cogsweep is not authorized to perform: cognito-idp:%s on resource: arn:aws:cognito-idp:%s:%s:userpool/* because no identity-based policy allows the cognito-idp:%s action",
				s.accountID, op, s.region, s.accountID, op))
			return
		}
	}

	// From here on the call counts in the category's usage metrics, as
	// Cognito counts every call that reached it, throttled or failed.
	resetAfter := false
	if s.faultApplies(k, op, spec) {
		if spec.token && echoFault(w, reqID, k, body) {
			return
		}
		u := s.faultRand.float64()
		switch {
		case u < k.resetProb:
			resetConn(w)
			return
		case u < k.resetProb+k.errorProb:
			s.recordCall(spec.category, false)
			writeError(w, reqID, errInternal())
			return
		case u < k.resetProb+k.errorProb+k.throttleProb:
			s.recordCall(spec.category, true)
			s.countThrottle()
			writeError(w, reqID, errThrottled())
			return
		case u < k.resetProb+k.errorProb+k.throttleProb+k.resetAfterP:
			resetAfter = true
		}
	}
	if spec.category != "" && !s.takeQuota(spec.category) {
		s.recordCall(spec.category, true)
		s.countThrottle()
		writeError(w, reqID, errThrottled())
		return
	}
	s.recordCall(spec.category, false)
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	s.countProcessed(op)
	out, apiErr := spec.handle(s, body)
	if apiErr != nil {
		writeError(w, reqID, apiErr)
		return
	}
	s.countExecuted(op)
	if resetAfter {
		resetConn(w)
		return
	}
	writeJSON(w, reqID, http.StatusOK, out)
}

func (s *Server) faultApplies(k knobs, op string, spec opSpec) bool {
	if k.faultOps != nil {
		return k.faultOps[op]
	}
	return !spec.seeding
}

// delay waits out the configured latency; false means the client gave up.
func (s *Server) delay(ctx context.Context, k knobs) bool {
	d := k.latency
	if k.jitter > 0 {
		d += time.Duration(s.jitterRand.float64() * float64(k.jitter))
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// resetConn drops the connection without a response. Linger 0 makes the
// close send a TCP RST, so the client sees "connection reset by peer" (or
// EOF), as when a load balancer gives up on a request.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func writeError(w http.ResponseWriter, reqID string, e *apiError) {
	w.Header().Set("x-amzn-ErrorType", e.code)
	writeJSON(w, reqID, e.status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.code, e.message})
}

func writeJSON(w http.ResponseWriter, reqID string, status int, v any) {
	var body []byte
	if v == nil {
		body = []byte("{}")
	} else {
		var err error
		if body, err = json.Marshal(v); err != nil {
			status, body = http.StatusInternalServerError, []byte(`{"__type":"InternalErrorException","message":"encode response"}`)
			w.Header().Set("x-amzn-ErrorType", codeInternalError)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Counters.

func (s *Server) countCall(op string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.calls[op]++
}

func (s *Server) countExecuted(op string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.executed[op]++
}

func (s *Server) countProcessed(op string) {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.processed[op]++
}

func (s *Server) countThrottle() {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.throttled++
}

// Calls counts requests for op that reached the handler, whatever their fate.
func (s *Server) Calls(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.calls[op]
}

// Executed counts requests for op that succeeded (and so took effect).
// A call reset after taking effect (ResetAfterProb) counts too.
func (s *Server) Executed(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.executed[op]
}

// Processed counts requests for op that got past faults and quotas to the
// operation itself, whatever it answered: a delete of a user already gone
// counts. It is what a crash-loop test bounds as "calls the server executed".
func (s *Server) Processed(op string) int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.processed[op]
}

// Throttled counts TooManyRequestsException answers, injected or from quotas.
func (s *Server) Throttled() int {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	return s.throttled
}

// Stats is a snapshot of every counter.
type Stats struct {
	Calls               map[string]int `json:"calls"`
	Executed            map[string]int `json:"executed"`
	Throttled           int            `json:"throttled"`
	ProductionServed    int            `json:"production_served"`
	ProductionThrottled int            `json:"production_throttled"`
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	st := Stats{
		Calls:               make(map[string]int, len(s.calls)),
		Executed:            make(map[string]int, len(s.executed)),
		Throttled:           s.throttled,
		ProductionServed:    s.ProductionServed(),
		ProductionThrottled: s.ProductionThrottled(),
	}
	for k, v := range s.calls {
		st.Calls[k] = v
	}
	for k, v := range s.executed {
		st.Executed[k] = v
	}
	return st
}

// Reset zeroes every counter, production's included. State is kept, and
// so are the usage metrics (usage.go): they are the account's history.
func (s *Server) Reset() {
	s.statMu.Lock()
	defer s.statMu.Unlock()
	s.calls = map[string]int{}
	s.executed = map[string]int{}
	s.processed = map[string]int{}
	s.throttled = 0
	s.prodServed.Store(0)
	s.prodThrottled.Store(0)
}

// lockedRand is a seeded generator shared by handler goroutines.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newLockedRand(seed int64, stream uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(uint64(seed), stream))}
}

func (l *lockedRand) float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

func (l *lockedRand) bytes16() [16]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := l.r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// uuid returns a random version-4 UUID string.
func (l *lockedRand) uuid() string { return formatUUID(l.uuidBytes()) }

func (l *lockedRand) uuidBytes() [16]byte {
	b := l.bytes16()
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}

func (l *lockedRand) alnum(n int, lowerOnly bool) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	set := chars
	if lowerOnly {
		set = chars[:36]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = set[l.r.IntN(len(set))]
	}
	return string(b)
}
