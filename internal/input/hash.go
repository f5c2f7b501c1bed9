package input

// hash64 is the key hash behind ShardOf and duplicate detection: FNV-1a 64
// over the key's UTF-8 bytes, then the 64-bit finalizer of MurmurHash3
// (fmix64). Both steps are fixed by their published constants, so the value
// is the same on every machine, process and version of cogsweep; sharding
// depends on that. fmix64 is there because FNV-1a leaves its low bits weakly
// mixed (the lowest bit is a parity of the input bytes), which a plain
// modulo would expose; it is a bijection, so it adds no collisions.
func hash64(key string) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= prime64
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// ShardOf maps key to a shard in [0, n): hash64(key) mod n, where hash64 is
// FNV-1a 64 followed by MurmurHash3's fmix64. The result is stable across
// machines and versions, so every pod of a sharded job agrees on who owns a
// row. n < 1 is treated as 1.
func ShardOf(key string, n int) int {
	if n <= 1 {
		return 0
	}
	return int(hash64(key) % uint64(n))
}
