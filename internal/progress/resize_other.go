//go:build !unix

package progress

import "context"

// onResize does nothing where there is no SIGWINCH (Windows): the bar
// re-fits at its next frame, which reads the width again.
func onResize(context.Context, func()) {}
