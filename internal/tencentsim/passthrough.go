package tencentsim

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
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
	if !s.ledger.admit(scf.ActionGetFunctionLogs, PassthroughAccount) {
		tcapi.WriteError(w, http.StatusTooManyRequests, reqID, "RequestLimitExceeded",
			"Your current request times exceeds the frequency limit. Please reduce the frequency of calls.")
		return
	}
	q := r.URL.Query()
	limit, offset, err := pageParams(q.Get("limit"), q.Get("offset"))
	if err != nil {
		tcapi.WriteError(w, http.StatusBadRequest, reqID, "InvalidParameterValue", err.Error())
		return
	}
	fns := s.matching("", "", q.Get("function"))
	if q.Get("function") == "" || len(fns) == 0 {
		tcapi.WriteError(w, http.StatusNotFound, reqID, "ResourceNotFound.Function", "The function does not exist.")
		return
	}
	tcapi.WriteResponse(w, reqID, s.scf.NewestLogs(fns[0], offset, limit, reqID))
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
