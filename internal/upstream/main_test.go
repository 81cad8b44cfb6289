package upstream

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/witness"
)

// suiteWitness reads the errors the tests receive for the SecretKey.
var suiteWitness = witness.New(map[string]string{"SecretKey": testenv.SecretKey})

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(suiteWitness.Main(m))
}
