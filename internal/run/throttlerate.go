package run

import "time"

// perMinuteOver is a whole run's throttles per minute.
func perMinuteOver(throttles int64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(throttles) / elapsed.Minutes()
}
