package translate

import (
	"math"
	"time"
)

// Stats is Mudbase's stats object.
type Stats struct {
	TotalExecutions  int64   `json:"totalExecutions"`
	Successful       int64   `json:"successful"`
	Failed           int64   `json:"failed"`
	SuccessRate      float64 `json:"successRate"`
	AvgExecutionTime int64   `json:"avgExecutionTime"`
	LastRun          *string `json:"lastRun"`
}

// NewStats builds Mudbase's stats of a window from what a source counted:
// all executions, the successful ones, the mean duration in milliseconds
// and the latest start (zero: none). Mudbase writes the success rate as a
// percent with two decimals (95.24).
func NewStats(total, successful int64, avgMs float64, lastRun time.Time) Stats {
	total = max(total, 0)
	good := min(max(successful, 0), total)
	s := Stats{TotalExecutions: total, Successful: good, Failed: total - good, AvgExecutionTime: DurationMs(avgMs)}
	if total > 0 {
		s.SuccessRate = math.Round(float64(good)*10000/float64(total)) / 100
	}
	if !lastRun.IsZero() {
		v := FormatMudbaseTime(lastRun)
		s.LastRun = &v
	}
	return s
}
