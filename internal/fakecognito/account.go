package fakecognito

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The fake also answers the two account-level reads a run makes before its
// first write: Service Quotas (the applied quota of each category) and
// CloudWatch GetMetricData over AWS/Usage (the account's recent calls per
// category). Each speaks the protocol its SDK client sends: Service Quotas
// awsJson1_1 (X-Amz-Target ServiceQuotasV20190624.<Op>), CloudWatch
// (aws-sdk-go-v2 v1.76.0) smithy rpcv2Cbor (POST
// /service/GraniteServiceVersion20100801/operation/<Op>); see cloudwatch.go.

const sqTargetPrefix = "ServiceQuotasV20190624."

// CognitoServiceCode is Cognito user pools' service code in Service Quotas.
const CognitoServiceCode = "cognito-idp"

// QuotaInfo is how Service Quotas names a category's request-rate quota.
type QuotaInfo struct {
	Code    string
	Name    string
	Default float64
}

// Quotas is the fake's table of Cognito's request-rate quotas. UserUpdate's
// and UserCreation's codes are the real ones; UserRead's and UserList's are
// the fake's own (marked "fake"), since a client should find those by
// their name in ListServiceQuotas rather than by a code it guesses.
var Quotas = map[Category]QuotaInfo{
	UserUpdate:   {Code: "L-6621E65D", Name: "Rate of UserUpdate requests", Default: 25},
	UserCreation: {Code: "L-5987B8A0", Name: "Rate of UserCreation requests", Default: 50},
	UserRead:     {Code: "L-FAKE0READ", Name: "Rate of UserRead requests", Default: 120},
	UserList:     {Code: "L-FAKE0LIST", Name: "Rate of UserList requests", Default: 30},
}

// SetAppliedQuota changes the value Service Quotas reports as applied for
// c (an account that bought more). It does not change the bucket the fake
// enforces: SetQuota does.
func (s *Server) SetAppliedQuota(c Category, v float64) {
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	s.applied[c] = v
}

func (s *Server) appliedQuota(c Category) float64 {
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	if v, ok := s.applied[c]; ok {
		return v
	}
	return Quotas[c].Default
}

// isServiceQuotas tells a Service Quotas request by its target.
func isServiceQuotas(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), sqTargetPrefix)
}

type sqQuota struct {
	ServiceCode         string    `json:"ServiceCode"`
	ServiceName         string    `json:"ServiceName"`
	QuotaArn            string    `json:"QuotaArn"`
	QuotaCode           string    `json:"QuotaCode"`
	QuotaName           string    `json:"QuotaName"`
	Value               float64   `json:"Value"`
	Unit                string    `json:"Unit"`
	Adjustable          bool      `json:"Adjustable"`
	GlobalQuota         bool      `json:"GlobalQuota"`
	QuotaAppliedAtLevel string    `json:"QuotaAppliedAtLevel"`
	Period              *sqPeriod `json:"Period,omitempty"`
}

type sqPeriod struct {
	PeriodValue int    `json:"PeriodValue"`
	PeriodUnit  string `json:"PeriodUnit"`
}

func (s *Server) sqQuota(c Category, value float64) sqQuota {
	q := Quotas[c]
	return sqQuota{
		ServiceCode: CognitoServiceCode, ServiceName: "Amazon Cognito User Pools",
		QuotaArn:  fmt.Sprintf("arn:aws:servicequotas:%s:%s:%s/%s", s.region, s.accountID, CognitoServiceCode, q.Code),
		QuotaCode: q.Code, QuotaName: q.Name, Value: value, Unit: "None", Adjustable: true,
		QuotaAppliedAtLevel: "ACCOUNT", Period: &sqPeriod{PeriodValue: 1, PeriodUnit: "SECOND"},
	}
}

func (s *Server) serveServiceQuotas(w http.ResponseWriter, r *http.Request) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), sqTargetPrefix)
	s.countCall(op)
	reqID := s.idRand.uuid()
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return // the client went away
	}
	k := s.currentKnobs()
	if !s.delay(r.Context(), k) {
		return
	}
	if k.rejectCredentials {
		writeError(w, reqID, clientErr(codeUnrecognized, msgBadCredentials))
		return
	}
	if k.denyOps[op] {
		writeError(w, reqID, clientErr(codeAccessDenied,
			"User: %s is not authorized to perform: servicequotas:%s because no identity-based policy allows the servicequotas:%s action",
			s.CallerARN(), op, op))
		return
	}
	var in struct {
		ServiceCode, QuotaCode string
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, reqID, clientErr("IllegalArgumentException", "malformed request body"))
			return
		}
	}
	if in.ServiceCode != CognitoServiceCode {
		writeError(w, reqID, clientErr("NoSuchResourceException", "The request failed because the specified service does not exist."))
		return
	}
	s.countProcessed(op)
	out, apiErr := s.sqAnswer(op, in.QuotaCode)
	if apiErr != nil {
		writeError(w, reqID, apiErr)
		return
	}
	s.countExecuted(op)
	writeJSON(w, reqID, http.StatusOK, out)
}

func (s *Server) sqAnswer(op, code string) (any, *apiError) {
	switch op {
	case "GetServiceQuota", "GetAWSDefaultServiceQuota":
		for c, q := range Quotas {
			if q.Code != code {
				continue
			}
			v := q.Default
			if op == "GetServiceQuota" {
				v = s.appliedQuota(c)
			}
			return map[string]any{"Quota": s.sqQuota(c, v)}, nil
		}
		return nil, clientErr("NoSuchResourceException", "The request failed because the specified quota does not exist.")
	case "ListServiceQuotas", "ListAWSDefaultServiceQuotas":
		var list []sqQuota
		for _, c := range []Category{UserCreation, UserList, UserRead, UserUpdate} {
			v := Quotas[c].Default
			if op == "ListServiceQuotas" {
				v = s.appliedQuota(c)
			}
			list = append(list, s.sqQuota(c, v))
		}
		return map[string]any{"Quotas": list}, nil
	}
	return nil, clientErr(codeUnknownOperation, "Unknown operation")
}
