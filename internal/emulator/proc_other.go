//go:build !linux

package emulator

import "os/exec"

// setProcAttrs does nothing outside Linux: the emulators are started
// directly (no shell or npx in between), so killing the child is enough.
func setProcAttrs(*exec.Cmd) {}

// killTree kills the child.
func killTree(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
