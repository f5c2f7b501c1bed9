package fakecognito

import (
	"bytes"
	"encoding/json"
	"io"
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
	// UserCreation paces AdminCreateUser (restore's creates); seeding
	// with it unset is unpaced.
	UserCreation Quota
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

	statMu      sync.Mutex
	calls       map[string]int
	executed    map[string]int
	processed   map[string]int
	throttled   int
	invitations int

	prodServed    atomic.Int64
	prodThrottled atomic.Int64
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
	s.buckets[UserCreation] = newBucket(opts.UserCreation, now)
	return s
}

// Now is the fake's current time: the base clock plus every Advance.
func (s *Server) Now() time.Time {
	return s.baseNow().Add(time.Duration(s.offset.Load()))
}

// Advance moves the fake's clock forward by d, ageing users and tokens and
// refilling quota buckets.
func (s *Server) Advance(d time.Duration) { s.offset.Add(int64(d)) }

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
