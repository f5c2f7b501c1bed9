package emulator

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStop_KillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	p, err := startProcess(t.Context(), helperSpec("serve-with-child", "PID_FILE="+pidFile))
	if err != nil {
		t.Fatalf("startProcess: %v", err)
	}
	// The helper writes the file before it listens, so it is there now.
	b, err := os.ReadFile(pidFile)
	if err != nil {
		p.stop()
		t.Fatalf("read grandchild pid: %v", err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		p.stop()
		t.Fatalf("grandchild pid %q: %v", b, err)
	}
	if !alive(pid) {
		p.stop()
		t.Fatalf("grandchild %d not running before stop", pid)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still running after stop", pid)
		}
		<-tick.C
	}
}

// alive reports whether pid runs; a zombie (killed, not yet reaped by
// whoever adopted it) does not count.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
