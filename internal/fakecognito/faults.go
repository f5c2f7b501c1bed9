package fakecognito

// The knobs a test turns to make the server slow or failing: latency,
// throttles, errors, connection resets, denied operations.

import (
	"context"
	"net"
	"net/http"
	"time"
)

// knobs are the settings tests may change mid-run.
type knobs struct {
	latency, jitter                                 time.Duration
	throttleProb, errorProb, resetProb, resetAfterP float64
	faultOps                                        map[string]bool // nil: all but seeding ops
	denyOps                                         map[string]bool
	rejectCredentials                               bool
	echo                                            EchoFunc // echo.go
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
