package redisstore

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/witness"
)

// suiteWitness reads every log line the suite's stores write and the
// errors and metrics the tests receive, for the Redis passwords the tests
// configure, also in pieces.
var suiteWitness = func() *witness.Witness {
	w := witness.New(nil)
	for i, p := range testPasswords {
		w.WatchPieces(fmt.Sprintf("Redis password %d", i), p, 4)
	}
	return w
}()

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(suiteWitness.Main(m))
}

// lines records the log lines of one store, as JSON, each also read by
// the witness.
type lines struct{ testenv.SyncBuffer }

// count says how many lines have msg.
func (l *lines) count(msg string) int {
	return strings.Count(l.String(), `"msg":"`+msg)
}

// testLogger writes JSON at debug level to the witness and to extra.
func testLogger(where string, extra ...io.Writer) *slog.Logger {
	out := io.MultiWriter(append([]io.Writer{suiteWitness.Writer(where)}, extra...)...)
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// summary is the lines above debug level: go-redis's own messages (at
// debug) would drown the transitions.
func (l *lines) summary() string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if line != "" && !strings.Contains(line, `"level":"DEBUG"`) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
