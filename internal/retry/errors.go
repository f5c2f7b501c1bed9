package retry

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
