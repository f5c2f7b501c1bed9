package run

import (
	"io"
	"time"
)

// Env is the process environment a run happens in; tests pass their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the AWS SDK's variables (AWS_REGION, AWS_ENDPOINT_URL_*);
	// the COGSWEEP_* ones are bound into Options by the command line.
	Getenv func(string) string
	// StdinIsTerminal overrides the terminal check (tests).
	StdinIsTerminal *bool
	// Backend, when set, replaces the AWS SDK client (tests, benchmarks);
	// see backend.go.
	Backend Backend
	// Now overrides the clock that judges ages (--only-disabled-for,
	// --created-before) (tests; nil: time.Now).
	Now func() time.Time
	// Version and Commit name the build for the report header and the
	// audit (set by the command line from its -ldflags variables).
	Version, Commit string
}
