//go:build !race

package pace_test

const raceOn = false
