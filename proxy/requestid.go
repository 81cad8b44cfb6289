package proxy

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
)

// newRequestID makes the X-Request-Id of a request that came without one:
// 128 random bits in hex. A request ID correlates log lines and is no
// secret, so it comes from the runtime's per-thread generator rather than
// from crypto/rand, as Echo's default does at several times the cost on
// every request.
func newRequestID() string {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}
