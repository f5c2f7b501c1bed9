package account

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Usage is the account's calls of a category over a window, per second,
// from AWS/Usage's CallCount and ThrottleCount. It counts every caller of
// the account and region: production, other jobs, and this job's own
// earlier runs.
type Usage struct {
	Category Category      `json:"category"`
	Window   time.Duration `json:"window"`
	// Peak is the highest per-period rate in the window, Mean the calls of
	// the whole window over its length.
	Peak float64 `json:"peak"`
	Mean float64 `json:"mean"`
	// Throttled is the mean rate of throttled calls over the window.
	Throttled float64 `json:"throttled"`
	// Points is the number of periods with data.
	Points int `json:"points"`
	// Known is false when nothing could be read (Peak and Mean are 0).
	Known bool `json:"known"`
}

// Period is the metric period asked for: Cognito publishes its usage at
// 1- to 5-minute resolution, so a minute is the finest there is.
const Period = time.Minute

// usageDims are Cognito's dimensions of AWS/Usage. Class is documented as
// unused by Cognito and carried as "None" by usage metrics elsewhere, so
// the metric is asked for both with and without it, and whichever has data
// is used.
func usageDims(c Category, withClass bool) []types.Dimension {
	d := []types.Dimension{
		{Name: aws.String("Service"), Value: aws.String("Cognito user pool")},
		{Name: aws.String("Type"), Value: aws.String("API")},
		{Name: aws.String("Resource"), Value: aws.String(string(c))},
	}
	if withClass {
		d = append(d, types.Dimension{Name: aws.String("Class"), Value: aws.String("None")})
	}
	return d
}

func usageQuery(id, metric string, c Category, withClass bool) types.MetricDataQuery {
	return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(true), MetricStat: &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String("AWS/Usage"), MetricName: aws.String(metric), Dimensions: usageDims(c, withClass)},
		Period: aws.Int32(int32(Period / time.Second)), Stat: aws.String("Sum"),
	}}
}

// ReadUsage reads c's CallCount and ThrottleCount over the window ending
// now. No data point at all is an *Unavailable (an emulator, a metric not
// published, a region without calls): the caller cannot tell "idle" from
// "not visible", so it keeps its defaults.
func (r *Reader) ReadUsage(ctx context.Context, c Category, window time.Duration) (Usage, error) {
	u := Usage{Category: c, Window: window}
	end := r.now().Truncate(Period)
	mins, err := r.ReadMinutes(ctx, c, end.Add(-window), end)
	if err != nil {
		return u, err
	}
	sec := Period.Seconds()
	total, throttled := 0.0, 0.0
	for _, m := range mins {
		total += m.Calls
		throttled += m.Throttles
		u.Peak = max(u.Peak, m.Calls/sec)
	}
	u.Points, u.Known = len(mins), true
	u.Mean = total / window.Seconds()
	u.Throttled = throttled / window.Seconds()
	return u, nil
}

// MinuteUsage is one period's CallCount and ThrottleCount of a category,
// every caller of the account counted.
type MinuteUsage struct {
	Start            time.Time
	Calls, Throttles float64
}

// ReadMinutes reads c's CallCount and ThrottleCount per Period in [from,
// to), oldest first; periods without calls have no data point and are
// left out. No data point at all is an *Unavailable, as for ReadUsage.
func (r *Reader) ReadMinutes(ctx context.Context, c Category, from, to time.Time) ([]MinuteUsage, error) {
	what := "production's " + string(c) + " load"
	if r.Metrics == nil {
		return nil, &Unavailable{What: what, Err: errors.New("no CloudWatch client")}
	}
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(from), EndTime: aws.Time(to), ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{
			usageQuery("calls", "CallCount", c, true), usageQuery("throttles", "ThrottleCount", c, true),
			usageQuery("calls_noclass", "CallCount", c, false), usageQuery("throttles_noclass", "ThrottleCount", c, false),
		},
	}
	series := map[string]map[time.Time]float64{}
	for range maxPages {
		out, err := r.Metrics.GetMetricData(ctx, in)
		if err != nil {
			return nil, r.fail(ctx, what, PermMetrics, err)
		}
		for _, res := range out.MetricDataResults {
			id := aws.ToString(res.Id)
			if series[id] == nil {
				series[id] = map[time.Time]float64{}
			}
			for i, v := range res.Values {
				if i < len(res.Timestamps) {
					series[id][res.Timestamps[i].UTC()] += v
				}
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	calls, thr := series["calls"], series["throttles"]
	if len(calls) == 0 {
		calls, thr = series["calls_noclass"], series["throttles_noclass"]
	}
	if len(calls) == 0 {
		return nil, &Unavailable{What: what, Err: errNoData}
	}
	mins := make([]MinuteUsage, 0, len(calls))
	for at, v := range calls {
		mins = append(mins, MinuteUsage{Start: at, Calls: v, Throttles: thr[at]})
	}
	sort.Slice(mins, func(i, j int) bool { return mins[i].Start.Before(mins[j].Start) })
	return mins, nil
}
