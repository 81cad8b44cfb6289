package tencentsim

import (
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/mudscf/mudscf/translate/scf"
)

// PassthroughAccount is the pseudo-SecretId under which the ground truth
// counts calls to the pass-through route.
const PassthroughAccount = "passthrough"

// servePassthrough answers GET /_sim/passthrough/logs?function=F&limit=N&offset=M
// with the GetFunctionLogs body of F's newest executions of the last 24 h.
//
// It is a benchmark aid, off unless Config.Passthrough is set: a generic
// HTTP cache such as nginx cannot sign TC3 requests or translate, so this
// route gives it something to cache with the same cost model as the API.
// Every call goes through the same sliding limit as GetFunctionLogs and is
// counted in the ground truth under PassthroughAccount, so a cache in front
// of it that overruns the budget shows up as RequestLimitExceeded (HTTP 429)
// and in /_sim/truth.
func (s *Simulator) servePassthrough(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	if !s.ledger.admit(actionGetFunctionLogs, PassthroughAccount) {
		writeResponseStatus(w, http.StatusTooManyRequests, reqID, ErrorResponse{
			Error: APIError{Code: "RequestLimitExceeded",
				Message: "Your current request times exceeds the frequency limit. Please reduce the frequency of calls."},
			RequestId: reqID,
		})
		return
	}
	q := r.URL.Query()
	limit, offset, err := pageParams(q.Get("limit"), q.Get("offset"))
	if err != nil {
		writeResponseStatus(w, http.StatusBadRequest, reqID, ErrorResponse{
			Error: APIError{Code: "InvalidParameterValue", Message: err.Error()}, RequestId: reqID})
		return
	}
	fns := s.matching("", "", q.Get("function"))
	if q.Get("function") == "" || len(fns) == 0 {
		writeResponseStatus(w, http.StatusNotFound, reqID, ErrorResponse{
			Error:     APIError{Code: "ResourceNotFound.Function", Message: "The function does not exist."},
			RequestId: reqID})
		return
	}
	now := s.now()
	win := &window{lo: nanos(now.Add(-24 * time.Hour)), hi: nanos(now) + 1, now: nanos(now),
		order: ordering{by: scf.OrderByStartTime, desc: true}, keep: offset + limit}
	writeResponse(w, reqID, s.page(win, fns[:1], offset, reqID))
}

// pageParams reads limit (default 20) and offset (default 0) under
// Tencent's cap of offset+limit <= 10,000.
func pageParams(limitText, offsetText string) (limit, offset int, err error) {
	limit, offset = 20, 0
	if limitText != "" {
		if limit, err = strconv.Atoi(limitText); err != nil || limit < 0 {
			return 0, 0, errInvalidPage("limit")
		}
	}
	if offsetText != "" {
		if offset, err = strconv.Atoi(offsetText); err != nil || offset < 0 {
			return 0, 0, errInvalidPage("offset")
		}
	}
	if offset+limit > 10000 {
		return 0, 0, errInvalidPage("offset+limit")
	}
	return limit, offset, nil
}

type errInvalidPage string

func (e errInvalidPage) Error() string {
	return string(e) + " must be a non-negative integer, offset+limit at most 10000"
}
