//go:build race

package pace_test

// raceOn: the race detector slows the simulator tenfold, and it has
// nothing to find in the matrix's pure runs that the 40 s cells do not
// show too.
const raceOn = true
