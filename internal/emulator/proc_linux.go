package emulator

import (
	"os/exec"
	"syscall"
)

// setProcAttrs puts the child in its own process group, so that killTree
// also reaches what it starts (the pyenv shim execs Python, npx would fork
// node), and has the kernel kill it if the test binary dies without running
// its cleanups (a -timeout panic, a SIGKILL).
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killTree kills the child's whole process group.
func killTree(cmd *exec.Cmd) {
	// A negative pid names the process group whose id is the child's pid.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = cmd.Process.Kill()
	}
}
