package proxy

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// maxRequestURIBytes bounds the path and query of the public API: the
// longest legitimate request (64-character IDs, every query parameter) is a
// few hundred bytes. Go's server already refuses request lines plus headers
// over MaxHeaderBytes (64 KiB) with its own plain-text 431; this bound is
// tighter and answers with the envelope.
const maxRequestURIBytes = 8 << 10

// limitRequests refuses oversized requests before any other work: a path
// and query over maxRequestURIBytes, and any body, which this GET-only API
// never reads (a chunked body has ContentLength -1). One middleware rather
// than Echo's BodyLimit as well: Echo makes each middleware's closure anew
// on every request.
func limitRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch {
		case len(r.RequestURI) > maxRequestURIBytes:
			return echo.NewHTTPError(http.StatusRequestURITooLong)
		case r.ContentLength != 0:
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return next(c)
	}
}
