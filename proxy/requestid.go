package proxy

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"

	"github.com/labstack/echo/v4"
)

// MaxRequestIDBytes bounds a client's X-Request-Id: UUIDs, ULIDs and
// trace-style IDs are well under it.
const MaxRequestIDBytes = 128

// requestID gives every request an X-Request-Id: the client's when it is a
// valid one (validRequestID), else a new one. The ID is echoed in the
// response and written in every log line of the request, before any
// authentication, so an unchecked one would let anyone write 60 KB log
// lines or raw bytes into responses and logs.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Response().Header()[echo.HeaderXRequestID] = []string{id}
		return next(c)
	}
}

// validRequestID accepts 1 to MaxRequestIDBytes bytes of visible ASCII
// ('!' to '~'): no space, no control character, nothing outside ASCII, so
// that the ID reads the same in a header, a JSON log line and a terminal.
func validRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDBytes {
		return false
	}
	for i := range len(id) {
		if id[i] < '!' || id[i] > '~' {
			return false
		}
	}
	return true
}

// newRequestID makes the X-Request-Id of a request that came without a
// valid one: 128 random bits in hex. A request ID correlates log lines and
// is no secret, so it comes from the runtime's per-thread generator rather
// than from crypto/rand, as Echo's default does at several times the cost
// on every request.
func newRequestID() string {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64()) //nolint:gosec // a correlation ID, not a secret (see above)
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64()) //nolint:gosec // a correlation ID, not a secret (see above)
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}
