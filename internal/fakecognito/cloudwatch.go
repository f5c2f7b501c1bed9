package fakecognito

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// CloudWatch GetMetricData, as aws-sdk-go-v2's cloudwatch client (v1.76.0)
// sends it: smithy rpcv2Cbor, a CBOR body POSTed to
// /service/GraniteServiceVersion20100801/operation/GetMetricData with the
// header Smithy-Protocol: rpc-v2-cbor. The service is awsQuery-compatible,
// so errors carry the query code in X-Amzn-Query-Error too ("AccessDenied;
// Sender"), which the SDK prefers as the error code.
//
// The metrics are AWS/Usage's CallCount and ThrottleCount per category,
// from the fake's own per-minute counters (usage.go), with Cognito's
// dimensions: Service "Cognito user pool", Type "API", Resource the
// category and Class "None". As in CloudWatch, a query must name every
// dimension exactly to match.

const cwPathPrefix = "/service/GraniteServiceVersion20100801/operation/"

// The dimensions Cognito's usage metrics carry.
const (
	UsageNamespace = "AWS/Usage"
	UsageService   = "Cognito user pool"
	UsageType      = "API"
	UsageClass     = "None"
)

func isCloudWatch(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, cwPathPrefix) && r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor"
}

func (s *Server) serveCloudWatch(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, cwPathPrefix)
	s.countCall(op)
	reqID := s.idRand.uuid()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return // the client went away
	}
	k := s.currentKnobs()
	if !s.delay(r.Context(), k) {
		return
	}
	switch {
	case k.rejectCredentials:
		writeCBORError(w, reqID, http.StatusForbidden, "UnrecognizedClientException", "InvalidClientTokenId", msgBadCredentials)
		return
	case k.denyOps[op]:
		writeCBORError(w, reqID, http.StatusBadRequest, "AccessDeniedException", "AccessDenied", fmt.Sprintf(
			"User: %s is not authorized to perform: cloudwatch:%s because no identity-based policy allows the cloudwatch:%s action", s.CallerARN(), op, op))
		return
	case op != "GetMetricData":
		writeCBORError(w, reqID, http.StatusBadRequest, "UnknownOperationException", "InvalidAction", "Unknown operation "+op)
		return
	}
	q, err := parseMetricQuery(body)
	if err != nil {
		writeCBORError(w, reqID, http.StatusBadRequest, "InvalidParameterValueException", "InvalidParameterValue", err.Error())
		return
	}
	s.countProcessed(op)
	results := cbor.List{}
	for _, mq := range q.queries {
		results = append(results, s.metricResult(mq, q.start, q.end))
	}
	s.countExecuted(op)
	writeCBOR(w, reqID, http.StatusOK, cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}})
}

type metricQuery struct {
	id, namespace, metric, stat string
	dims                        map[string]string
	period                      int64
}

type metricRequest struct {
	queries    []metricQuery
	start, end time.Time
}

func parseMetricQuery(body []byte) (metricRequest, error) {
	var req metricRequest
	v, err := cbor.Decode(body)
	if err != nil {
		return req, fmt.Errorf("decode request: %w", err)
	}
	m, _ := v.(cbor.Map)
	if req.start, err = cbor.AsTime(m["StartTime"]); err != nil {
		return req, fmt.Errorf("StartTime: %w", err)
	}
	if req.end, err = cbor.AsTime(m["EndTime"]); err != nil {
		return req, fmt.Errorf("EndTime: %w", err)
	}
	list, _ := m["MetricDataQueries"].(cbor.List)
	for _, item := range list {
		qm, _ := item.(cbor.Map)
		stat, _ := qm["MetricStat"].(cbor.Map)
		metric, _ := stat["Metric"].(cbor.Map)
		mq := metricQuery{
			id: str(qm["Id"]), namespace: str(metric["Namespace"]), metric: str(metric["MetricName"]),
			stat: str(stat["Stat"]), dims: map[string]string{},
		}
		if mq.period, err = cbor.AsInt64(stat["Period"]); err != nil || mq.period < 60 || mq.period%60 != 0 {
			return req, fmt.Errorf("query %s: Period must be a multiple of 60", mq.id)
		}
		dl, _ := metric["Dimensions"].(cbor.List)
		for _, d := range dl {
			dm, _ := d.(cbor.Map)
			mq.dims[str(dm["Name"])] = str(dm["Value"])
		}
		req.queries = append(req.queries, mq)
	}
	return req, nil
}

func str(v cbor.Value) string {
	s, _ := v.(cbor.String)
	return string(s)
}

// metricResult sums the counters of the query's category per period,
// newest first (GetMetricData's default order). Periods without calls
// have no data point, as in CloudWatch. The current minute is not yet
// published.
func (s *Server) metricResult(q metricQuery, start, end time.Time) cbor.Map {
	res := cbor.Map{"Id": cbor.String(q.id), "Label": cbor.String(q.metric), "StatusCode": cbor.String("Complete")}
	times, values := cbor.List{}, cbor.List{}
	res["Timestamps"], res["Values"] = times, values
	c, ok := q.category()
	if !ok {
		return res
	}
	if now := s.Now().Truncate(time.Minute); end.After(now) {
		end = now
	}
	type agg struct{ sum, max, n float64 }
	byPeriod := map[int64]*agg{}
	var order []int64
	for _, p := range s.usage.minutes(c, start, end) {
		v := p.calls
		if q.metric == "ThrottleCount" {
			v = p.throttles
		}
		if v == 0 {
			continue
		}
		k := p.at - p.at%q.period
		a := byPeriod[k]
		if a == nil {
			a = &agg{}
			byPeriod[k] = a
			order = append(order, k)
		}
		a.sum += v
		a.max = max(a.max, v)
		a.n++
	}
	for i := len(order) - 1; i >= 0; i-- {
		a := byPeriod[order[i]]
		v := a.sum
		switch q.stat {
		case "Maximum":
			v = a.max
		case "Average":
			v = a.sum / a.n
		case "SampleCount":
			v = a.n
		}
		times = append(times, cbor.Tag{ID: 1, Value: cbor.Float64(order[i])})
		values = append(values, cbor.Float64(v))
	}
	res["Timestamps"], res["Values"] = times, values
	return res
}

// category is the category the query names, when it names Cognito's usage
// metrics with exactly their dimensions.
func (q metricQuery) category() (Category, bool) {
	if q.namespace != UsageNamespace || (q.metric != "CallCount" && q.metric != "ThrottleCount") || len(q.dims) != 4 {
		return "", false
	}
	if q.dims["Service"] != UsageService || q.dims["Type"] != UsageType || q.dims["Class"] != UsageClass {
		return "", false
	}
	c := Category(q.dims["Resource"])
	_, ok := Quotas[c]
	return c, ok
}

func writeCBORError(w http.ResponseWriter, reqID string, status int, typ, queryCode, msg string) {
	w.Header().Set("X-Amzn-Query-Error", queryCode+";Sender")
	writeCBOR(w, reqID, status, cbor.Map{
		"__type": cbor.String("com.amazon.coral.service#" + typ), "message": cbor.String(msg),
	})
}

func writeCBOR(w http.ResponseWriter, reqID string, status int, v cbor.Value) {
	h := w.Header()
	h.Set("Content-Type", "application/cbor")
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(v))
}
