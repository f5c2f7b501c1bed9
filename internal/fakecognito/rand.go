package fakecognito

// The server's seeded randomness: reproducible faults, ids and tokens.

import (
	"math/rand/v2"
	"sync"
)

// lockedRand is a seeded generator shared by handler goroutines.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newLockedRand(seed int64, stream uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(uint64(seed), stream))}
}

func (l *lockedRand) float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

func (l *lockedRand) bytes16() [16]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := l.r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// uuid returns a random version-4 UUID string.
func (l *lockedRand) uuid() string { return formatUUID(l.uuidBytes()) }

func (l *lockedRand) uuidBytes() [16]byte {
	b := l.bytes16()
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}

func (l *lockedRand) alnum(n int, lowerOnly bool) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	set := chars
	if lowerOnly {
		set = chars[:36]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = set[l.r.IntN(len(set))]
	}
	return string(b)
}
