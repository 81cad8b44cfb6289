package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/translate"
)

// The response is Mudbase's envelope, field by field and type by type, and
// it carries what the simulator generated.
func TestLogsEnvelopeFieldByField(t *testing.T) {
	forEachSource(t, func(t *testing.T, src logSource) {
		env := src.start(t, nil)
		// A minute back, so every execution of the window has finished and is
		// visible both to the proxy's call and to the ground truth read later.
		until := time.Now().Add(-time.Minute).Truncate(time.Second)
		since := until.Add(-6 * time.Hour)
		query := "?limit=3&since=" + since.UTC().Format(time.RFC3339) + "&until=" + until.UTC().Format(time.RFC3339)
		r := env.get(t, logsPath+query, env.token(t, "usr_morgan_de"))
		if r.status != http.StatusOK || r.header.Get("X-Cache") != "MISS" || r.header.Get("Age") != "0" {
			t.Fatalf("%d X-Cache=%q Age=%q: %s", r.status, r.header.Get("X-Cache"), r.header.Get("Age"), r.body)
		}
		var doc map[string]any
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatal(err)
		}
		if doc["success"] != true || len(doc) != 2 {
			t.Fatalf("top level %v", doc)
		}
		data := doc["data"].(map[string]any)
		execs := data["executions"].([]any)
		if len(execs) != 3 {
			t.Fatalf("%d executions, want 3", len(execs))
		}
		for i, x := range execs {
			e := x.(map[string]any)
			at, err := time.Parse("2006-01-02T15:04:05.000Z", e["executedAt"].(string))
			if err != nil {
				t.Errorf("execution %d executedAt %v: %v", i, e["executedAt"], err)
			}
			if n, ok := e["executionTime"].(float64); !ok || n != float64(int64(n)) || n < 0 {
				t.Errorf("execution %d executionTime %v is not a non-negative integer", i, e["executionTime"])
			}
			ok, isBool := e["success"].(bool)
			if !isBool {
				t.Errorf("execution %d success %v is not a boolean", i, e["success"])
			}
			if _, has := e["error"]; has == ok {
				t.Errorf("execution %d: error present %v with success %v", i, has, ok)
			}
			if _, has := e["result"]; has && !ok {
				t.Errorf("execution %d: a failure with a result", i)
			}
			for _, invented := range append([]string{"triggerType", "triggerEvent", "invokedBy"}, src.notCarried...) {
				if _, has := e[invented]; has {
					t.Errorf("execution %d has %s, which the upstream cannot supply", i, invented)
				}
			}
			if i > 0 {
				prev, _ := time.Parse(time.RFC3339, execs[i-1].(map[string]any)["executedAt"].(string))
				if at.After(prev) {
					t.Errorf("executions are not newest first")
				}
			}
		}
		stats := data["stats"].(map[string]any)
		for _, k := range []string{"totalExecutions", "successful", "failed", "avgExecutionTime"} {
			if n, ok := stats[k].(float64); !ok || n != float64(int64(n)) {
				t.Errorf("stats.%s = %v is not an integer", k, stats[k])
			}
		}
		if _, ok := stats["successRate"].(float64); !ok {
			t.Errorf("stats.successRate = %v is not a number", stats["successRate"])
		}
		if _, err := time.Parse(time.RFC3339, stats["lastRun"].(string)); err != nil {
			t.Errorf("stats.lastRun: %v", err)
		}
		if stats["totalExecutions"].(float64) != stats["successful"].(float64)+stats["failed"].(float64) {
			t.Errorf("stats do not add up: %v", stats)
		}

		// The hand-joined envelope is exactly translate.LogsResponse.
		var typed translate.LogsResponse
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&typed); err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(typed)
		if !bytes.Equal(again, r.body) {
			t.Errorf("the joined envelope differs from translate.LogsResponse's encoding:\n%s\n%s", r.body, again)
		}

		// Against the simulator's ground truth for the same window.
		truth := env.sim.Executions("ap-guangzhou", "default", "APITest", since, until.Add(time.Second-1))
		if typed.Data.Stats.TotalExecutions != int64(len(truth)) {
			t.Errorf("totalExecutions %d, simulator generated %d", typed.Data.Stats.TotalExecutions, len(truth))
		}
		newest := truth[0]
		for _, e := range truth {
			if e.Start.After(newest.Start) {
				newest = e
			}
		}
		if typed.Data.Executions[0].RequestID != newest.Log.RequestId {
			t.Errorf("first execution %s, simulator's newest %s", typed.Data.Executions[0].RequestID, newest.Log.RequestId)
		}

		if again := env.get(t, logsPath+query, env.token(t, "usr_morgan_de")); again.header.Get("X-Cache") != "HIT" || !bytes.Equal(again.body, r.body) {
			t.Errorf("the same request again: X-Cache %q", again.header.Get("X-Cache"))
		}
	})
}

func TestLogsAccessAndRouting(t *testing.T) {
	forEachSource(t, func(t *testing.T, src logSource) {
		env := src.start(t, nil)
		projectsToken, err := jwtauth.MintToken(env.secret, jwtauth.Config{ProjectsClaim: "projects", RolesClaim: "roles"},
			jwtauth.TokenClaims{Subject: "svc_reporting", Projects: []string{testProject}, TTL: time.Hour}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, path, token string
			status            int
			code              string
		}{
			{"member", logsPath, env.token(t, "usr_morgan_de"), 200, ""},
			{"role", logsPath, env.token(t, "usr_someone", "admin"), 200, ""},
			{"projects claim", logsPath, projectsToken, 200, ""},
			{"no access", logsPath, env.token(t, "usr_stranger", "viewer"), 403, translate.CodeForbidden},
			{"unknown project", "/api/functions/projects/proj_unknown/functions/" + testFunction + "/logs", env.token(t, "usr_morgan_de"), 404, translate.CodeNotFound},
			{"unknown function", "/api/functions/projects/" + testProject + "/functions/fn_unknown/logs", env.token(t, "usr_morgan_de"), 404, translate.CodeFunctionNotFound},
			{"unknown route", "/api/functions/projects/" + testProject + "/functions", env.token(t, "usr_morgan_de"), 404, translate.CodeNotFound},
			{"bad project ID", "/api/functions/projects/proj.bad/functions/" + testFunction + "/logs", env.token(t, "usr_morgan_de"), 400, translate.CodeInvalidParameter},
			{"overlong function ID", "/api/functions/projects/" + testProject + "/functions/" + strings.Repeat("f", 65) + "/logs", env.token(t, "usr_morgan_de"), 400, translate.CodeInvalidParameter},
			{"unknown project without a token", "/api/functions/projects/proj_unknown/functions/x/logs", "", 401, translate.CodeUnauthorized},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := env.get(t, c.path, c.token)
				if c.status == 200 {
					if r.status != 200 {
						t.Fatalf("%d: %s", r.status, r.body)
					}
					return
				}
				assertEnvelope(t, r, c.status, c.code)
			})
		}
	})
}

func TestLogsRejectsBadParameters(t *testing.T) {
	forEachSource(t, func(t *testing.T, src logSource) {
		env := src.start(t, nil)
		tok := env.token(t, "usr_morgan_de")
		for _, c := range []struct{ query, mentions string }{
			{"limit=-1", "limit"},
			{"limit=ten", "limit"},
			{"offset=1.5", "offset"},
			{"offset=9999&limit=2", "10000"},
			{"limit=1&limit=2", "limit"},
			{"status=maybe", "status"},
			{"order=sideways", "order"},
			{"since=yesterday", "since"},
			{"since=2024-01-15T10:00:00Z&until=2024-01-13T10:00:00Z", "before until"},
			{"since=2024-01-13T10:00:00Z&until=2024-01-15T10:00:00Z", "24h"},
			{"requestId=%3Cscript%3E", "requestId"},
			{"qualifier=a%2Fb", "qualifier"},
			// Pairs Go's parser cannot read are refused, not dropped: a
			// dropped filter would answer with an unfiltered page.
			{"status=bogus%zz", `invalid URL escape "%zz"`},
			{"limit=2;offset=1", "semicolon"},
			{"status=failed&x=%", "malformed query string"},
		} {
			t.Run(c.query, func(t *testing.T) {
				body := assertEnvelope(t, env.get(t, logsPath+"?"+c.query, tok), http.StatusBadRequest, translate.CodeInvalidParameter)
				if !strings.Contains(body.Error, c.mentions) {
					t.Errorf("message %q does not mention %q", body.Error, c.mentions)
				}
			})
		}
		if n := src.calls(env); n != 0 {
			t.Errorf("bad parameters reached the upstream: %d calls", n)
		}
	})
}

// HEAD answers as GET does, without the body (RFC 9110 §9.3.2), and is
// authenticated the same way.
func TestHeadLogs(t *testing.T) {
	forEachSource(t, func(t *testing.T, src logSource) {
		env := src.start(t, nil)
		tok := env.token(t, "usr_morgan_de")
		path := logsPath + "?limit=2" + fixedWindow()
		env.get(t, path, tok) // the HEAD below is a hit, and so is this GET
		get := env.get(t, path, tok)
		if get.status != http.StatusOK {
			t.Fatalf("GET: %d %s", get.status, get.body)
		}
		head := func(token string) response { return do(t, http.MethodHead, env.url+path, token) }
		r := head(tok)
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Fatalf("HEAD: %d with %d body bytes", r.status, len(r.body))
		}
		for _, h := range []string{"Content-Type", "X-Cache"} {
			if r.header.Get(h) != get.header.Get(h) {
				t.Errorf("HEAD %s %q, GET's %q", h, r.header.Get(h), get.header.Get(h))
			}
		}
		if r.header.Get("Age") == "" || r.header.Get("X-Request-Id") == "" {
			t.Errorf("HEAD without Age or X-Request-Id: %v", r.header)
		}
		if n := r.header.Get("Content-Length"); n != strconv.Itoa(len(get.body)) {
			t.Errorf("HEAD Content-Length %s, GET's body is %d bytes", n, len(get.body))
		}
		if r := head(""); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("HEAD without a token: %d, WWW-Authenticate %q", r.status, r.header.Get("WWW-Authenticate"))
		}
		if r := head(env.token(t, "usr_stranger")); r.status != http.StatusForbidden {
			t.Errorf("HEAD without access: %d", r.status)
		}
	})
}
