package run

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestLogger_ScrubsJWTShapes(t *testing.T) {
	const jwt = "eyJraWQiOiJmYWtlIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.cdwYrgBJj9DdgqeaYKBuMnHcGK4ASY_Q3YKnmmCgbjI"
	for _, format := range []string{"json", "text", "console"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			log := newLogger(format, &b)
			if format == "console" {
				log = consoleLogger(&b, func() int { return 400 })
			}
			log.Warn("echo "+jwt[20:60], "error", errors.New("denied: "+jwt), "code", jwt, "rows", 3)
			out := b.String()
			if strings.Contains(out, "eyJ") || strings.Count(out, "[token]") != 3 || !strings.Contains(out, "rows") {
				t.Errorf("log line %s", out)
			}
		})
	}
}
