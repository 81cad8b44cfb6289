package proxy

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Request size bounds of the public API. Go's server already refuses
// request lines plus headers over MaxHeaderBytes (64 KiB) with its own
// plain-text 431; these bounds are tighter and answer with the envelope.
const (
	// MaxRequestURIBytes bounds the path and query: the longest legitimate
	// request (64-character IDs, every query parameter) is a few hundred
	// bytes.
	MaxRequestURIBytes = 8 << 10
	// maxBodySize: the API is GET only and reads no body.
	maxBodySize = "1KB"
)

// limitRequests refuses oversized requests before any other work.
func limitRequests() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				if len(c.Request().RequestURI) > MaxRequestURIBytes {
					return echo.NewHTTPError(http.StatusRequestURITooLong)
				}
				return next(c)
			}
		},
		middleware.BodyLimit(maxBodySize),
	}
}
