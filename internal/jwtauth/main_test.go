package jwtauth

import (
	"io"
	"log/slog"
	"testing"

	"go.uber.org/goleak"

	"github.com/mudscf/mudscf/internal/witness"
)

const (
	testJWTSecret = "jwt-secret-for-tests-only-0123456789abcdef"
	testProject   = "proj_AsIu33tafZGe"
)

// suiteWitness reads every log line the suite's components write and the
// errors the tests receive, for the JWT secret.
var suiteWitness = witness.New(map[string]string{"JWT secret": testJWTSecret})

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(suiteWitness.Main(m))
}

// testLogger is the logger of every component a test builds: JSON at
// debug level, each line read by the witness.
func testLogger(where string, extra ...io.Writer) *slog.Logger {
	out := io.MultiWriter(append([]io.Writer{suiteWitness.Writer(where)}, extra...)...)
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
