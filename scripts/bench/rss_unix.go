//go:build unix

package main

import (
	"os"
	"syscall"
)

// maxRSS is the child's peak resident set (KiB on Linux, the bench's host).
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
