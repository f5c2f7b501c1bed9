package retry

import (
	"errors"
	"sync"
)

// Error attaches a Decision to an error so that callers anywhere up the stack
// can read the class with errors.As, through any amount of wrapping. Classify
// returns the attached Decision unchanged, so a fake or an adapter can
// pre-classify an error.
//
// Its message is the wrapped error's message with the class and code in
// front; it adds nothing else (in particular no request parameters, so no
// access token can leak through it).
type Error struct {
	Decision
	Err error
}

// Wrap attaches d to err. It returns nil for a nil err.
func Wrap(d Decision, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Decision: d, Err: err}
}

// Error returns "<class> <code>: <wrapped message>".
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Class.String() + " " + e.Code
	}
	return e.Class.String() + " " + e.Code + ": " + e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class attached to err with Wrap, or OK for nil, or
// Permanent when err carries no class.
func ClassOf(err error) Class {
	if err == nil {
		return OK
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Class
	}
	return Permanent
}

// IsFatal reports whether err carries the Fatal class.
func IsFatal(err error) bool { return ClassOf(err) == Fatal }

// Streak counts consecutive hits across workers and trips after N in a row.
// Use it for failures that are harmless once but run-wide when they repeat
// (ForbiddenException from a WAF, InternalErrorException): every call result
// is either a Hit or a Miss. It is safe for concurrent use.
type Streak struct {
	mu  sync.Mutex
	n   int
	run int
}

// NewStreak returns a Streak that trips after n consecutive hits (n < 1 is
// taken as 1).
func NewStreak(n int) *Streak {
	if n < 1 {
		n = 1
	}
	return &Streak{n: n}
}

// Hit records one more hit and reports whether the streak has reached N.
// Once tripped it stays tripped until a Miss.
func (s *Streak) Hit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run++
	return s.run >= s.n
}

// Miss ends the current streak.
func (s *Streak) Miss() {
	s.mu.Lock()
	s.run = 0
	s.mu.Unlock()
}

// Len returns the length of the current streak.
func (s *Streak) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run
}
