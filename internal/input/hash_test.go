package input

import (
	"fmt"
	"hash/fnv"
	"testing"
)

// TestShardOf_Golden pins ShardOf's values: a change here reshuffles every
// sharded job in flight, so it must never happen silently.
func TestShardOf_Golden(t *testing.T) {
	tests := []struct {
		name string
		key  string
		n    int
		want int
	}{
		{name: "alice/4", key: "alice", n: 4, want: int(0x3507d047a67c08f4 % 4)},
		{name: "alice/10", key: "alice", n: 10, want: int(0x3507d047a67c08f4 % 10)},
		{name: "one shard", key: "alice", n: 1, want: 0},
		{name: "zero shards", key: "alice", n: 0, want: 0},
		{name: "negative", key: "alice", n: -3, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ShardOf(tt.key, tt.n); got != tt.want {
				t.Errorf("ShardOf(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
			}
		})
	}
	pinned := []struct {
		key  string
		hash uint64
	}{
		{"", 0xefd01f60ba992926},
		{"alice", 0x3507d047a67c08f4},
		{"user-00000042", 0xaac17bb9cb9dea02},
		{"José", 0x7e14c127537bb951},
	}
	for _, p := range pinned {
		if got := hash64(p.key); got != p.hash {
			t.Errorf("hash64(%q) = %#x, want %#x", p.key, got, p.hash)
		}
	}
}

// goldenShard recomputes the documented definition from the standard
// library's FNV-1a and MurmurHash3's published fmix64.
func goldenShard(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return int(x % uint64(n))
}

func TestShardOf_MatchesDefinition(t *testing.T) {
	for i := range 2000 {
		key := fmt.Sprintf("user-%d", i)
		for _, n := range []int{2, 3, 7, 64} {
			if got, want := ShardOf(key, n), goldenShard(key, n); got != want {
				t.Fatalf("ShardOf(%q, %d) = %d, want %d", key, n, got, want)
			}
		}
	}
}

func TestShardOf_Balanced(t *testing.T) {
	const keys, n = 70_000, 7
	var counts [n]int
	for i := range keys {
		counts[ShardOf(fmt.Sprintf("user-%08d", i), n)]++
	}
	for s, c := range counts {
		if c < keys/n*95/100 || c > keys/n*105/100 {
			t.Errorf("shard %d has %d keys, want about %d", s, c, keys/n)
		}
	}
}
