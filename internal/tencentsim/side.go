package tencentsim

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// serveSide serves /_sim/: endpoints that are not Tencent's but let tests
// and operators look behind the API and flip faults at run time.
func (s *Simulator) serveSide(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_sim/healthz":
		if !allow(w, r, http.MethodGet) {
			return
		}
		writeSide(w, http.StatusOK, map[string]string{"status": "ok"})
	case "/_sim/truth":
		if !allow(w, r, http.MethodGet) {
			return
		}
		writeSide(w, http.StatusOK, s.Truth())
	case "/_sim/faults":
		if !allow(w, r, http.MethodGet, http.MethodPut) {
			return
		}
		if r.Method == http.MethodPut {
			var f Faults
			b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			if err == nil {
				err = json.Unmarshal(b, &f)
			}
			if err == nil {
				err = f.validate()
			}
			if err != nil {
				writeSide(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			s.SetFaults(f)
		}
		writeSide(w, http.StatusOK, s.Faults())
	case "/_sim/executions":
		if !allow(w, r, http.MethodGet) {
			return
		}
		s.serveExecutions(w, r)
	case "/_sim/passthrough/logs":
		if !s.cfg.Passthrough {
			writeSide(w, http.StatusNotFound, map[string]string{"error": "the pass-through route is off (simulate --passthrough)"})
			return
		}
		if !allow(w, r, http.MethodGet) {
			return
		}
		s.servePassthrough(w, r)
	default:
		writeSide(w, http.StatusNotFound, map[string]string{"error": "no such endpoint " + r.URL.Path})
	}
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	for _, m := range methods {
		w.Header().Add("Allow", m)
	}
	writeSide(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	return false
}

// serveExecutions lists ground-truth executions; until defaults to now and
// since to 24 h before until. The list is capped but the count is exact.
func (s *Simulator) serveExecutions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	until := s.now()
	if v := q.Get("until"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeSide(w, http.StatusBadRequest, map[string]string{"error": "until: " + err.Error()})
			return
		}
		until = t
	}
	since := until.Add(-24 * time.Hour)
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeSide(w, http.StatusBadRequest, map[string]string{"error": "since: " + err.Error()})
			return
		}
		since = t
	}
	count, out := s.executions(q.Get("region"), q.Get("namespace"), q.Get("function"), since, until, s.listCap)
	writeSide(w, http.StatusOK, struct {
		Count      int64       `json:"count"`
		Executions []Execution `json:"executions"`
	}{count, out})
}

func writeSide(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
