package report

import "math/bits"

// Bitset is a fixed-size set of small non-negative integers (row numbers),
// one bit each: 10,000,000 rows take 1.25 MB.
type Bitset struct {
	words []uint64
	n     int
}

// NewBitset returns an empty set that can hold 0..n-1. For row numbers,
// which start at 1, use NewBitset(rows+1).
func NewBitset(n int) *Bitset {
	if n < 0 {
		n = 0
	}
	return &Bitset{words: make([]uint64, (n+63)/64), n: n}
}

// Len returns the capacity n given to NewBitset.
func (b *Bitset) Len() int {
	if b == nil {
		return 0
	}
	return b.n
}

// Set adds i to the set. It panics when i is outside 0..Len()-1, like an
// index out of range: a row beyond the input is a bug in the caller.
func (b *Bitset) Set(i int) {
	if i < 0 || i >= b.n {
		panic("report: Bitset.Set index out of range")
	}
	b.words[i>>6] |= 1 << (uint(i) & 63)
}

// Has reports whether i is in the set. Out of range and a nil set hold
// nothing.
func (b *Bitset) Has(i int) bool {
	if b == nil || i < 0 || i >= b.n {
		return false
	}
	return b.words[i>>6]&(1<<(uint(i)&63)) != 0
}

// Count returns how many integers the set holds.
func (b *Bitset) Count() int {
	if b == nil {
		return 0
	}
	c := 0
	for _, w := range b.words {
		c += bits.OnesCount64(w)
	}
	return c
}

// GrowBits is a set of non-negative integers that grows as they are added,
// for sets whose size is not known before the pass that fills them. The
// zero value is empty.
type GrowBits struct{ words []uint64 }

// Set adds i (i >= 0) to the set.
func (g *GrowBits) Set(i int) {
	for i>>6 >= len(g.words) {
		g.words = append(g.words, 0)
	}
	g.words[i>>6] |= 1 << (uint(i) & 63)
}

// Has reports whether i is in the set.
func (g *GrowBits) Has(i int) bool {
	return i >= 0 && i>>6 < len(g.words) && g.words[i>>6]&(1<<(uint(i)&63)) != 0
}
