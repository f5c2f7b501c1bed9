package backup

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkOpenIndex scans a backup of 200,000 users and reports the heap
// the index keeps per user (username only, and with sub and email).
func BenchmarkOpenIndex(b *testing.B) {
	const users = 200_000
	path := filepath.Join(b.TempDir(), "big.ndjson")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range users {
		fmt.Fprintf(w, `{"row":%d,"user_pool_id":"us-east-1_AbC123","username":"user-%07d","enabled":true,"status":"CONFIRMED","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","attributes":{"sub":"%08d-1111-4111-8111-111111111111","email":"user-%07d@example.com","custom:dept":"d1"},"groups":["staff"],"backed_up_at":"2026-01-01T00:00:00Z"}`+"\n", i+1, i, i, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for _, tc := range []struct {
		name string
		o    IndexOptions
	}{{"username", IndexOptions{}}, {"username+sub+email", IndexOptions{BySub: true, ByEmail: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				x, err := OpenIndex(path, tc.o)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/users, "heapB/user")
				runtime.KeepAlive(x)
				x.Close()
			}
		})
	}
}
