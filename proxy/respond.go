package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// failureError carries a ready Failure through Echo's error path.
type failureError struct{ f translate.Failure }

func (e *failureError) Error() string { return e.f.Body.Error }

func failure(f translate.Failure) error { return &failureError{f} }

// failureFor decides what the client receives for any error a handler
// returns, and after how long it may retry. Every 4xx and 5xx is the
// Mudbase envelope; upstream errors are mapped here, and only here, from
// their upstream.Outcome.
func failureFor(err error) (translate.Failure, time.Duration) {
	var fe *failureError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &fe):
		return fe.f, 0
	case errors.As(err, &he):
		return httpFailure(he), 0
	case errors.Is(err, errDraining), errors.Is(err, budget.ErrDraining):
		return drainingFailure, time.Second
	}
	var open *upstream.BreakerOpenError
	var refused *budget.RefusedError
	outcome := upstream.Classify(err)
	switch outcome {
	case upstream.BreakerOpen:
		errors.As(err, &open)
		return breakerFailure, open.RetryAfter
	case upstream.BudgetRefused:
		errors.As(err, &refused)
		return translate.NewFailure(http.StatusTooManyRequests, translate.CodeRateLimited,
			"the upstream's budget of requests per second is spent; retry after the Retry-After delay"), refused.RetryAfter
	}
	var apiErr *upstream.APIError
	if errors.As(err, &apiErr) {
		f := outcomeFailures[outcome]
		return translate.Failure{Status: f.Status, Body: translate.ErrorBody{
			Error:        apiErr.Explain() + " (" + translate.Clip(apiErr.Code) + ")",
			Code:         f.Body.Code,
			UpstreamCode: translate.Clip(apiErr.Code),
			RequestID:    translate.Clip(apiErr.RequestID),
		}}, 0
	}
	if outcome == upstream.Timeout || outcome == upstream.BadResponse {
		return outcomeFailures[outcome], 0
	}
	return outcomeFailures[upstream.Unreachable], 0
}

// outcomeFailures are the status and code of each upstream outcome: an
// API error adds its own explanation and code (failureFor); the failures
// of the conversation itself are sent as they are. What the client controls is a 400, a function missing
// upstream a 404, the limits a 429; mudscf's own credentials, region or
// request shape are a 502 that never blames the client's token.
var outcomeFailures = map[upstream.Outcome]translate.Failure{
	upstream.RateLimited:      translate.NewFailure(http.StatusTooManyRequests, translate.CodeRateLimited, ""),
	upstream.TopicBusy:        translate.NewFailure(http.StatusTooManyRequests, translate.CodeRateLimited, ""),
	upstream.AuthFailure:      translate.NewFailure(http.StatusBadGateway, translate.CodeUpstreamAuth, ""),
	upstream.PermissionDenied: translate.NewFailure(http.StatusBadGateway, translate.CodeUpstreamPermission, ""),
	upstream.Misconfigured:    translate.NewFailure(http.StatusBadGateway, translate.CodeUpstreamConfig, ""),
	upstream.NotFound:         translate.NewFailure(http.StatusNotFound, translate.CodeFunctionNotFound, ""),
	upstream.InvalidRequest:   translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter, ""),
	upstream.Rejected:         translate.NewFailure(http.StatusBadGateway, translate.CodeUpstreamError, ""),
	upstream.InternalError:    translate.NewFailure(http.StatusBadGateway, translate.CodeUpstreamError, ""),
	upstream.Unavailable:      translate.NewFailure(http.StatusServiceUnavailable, translate.CodeUpstreamDown, ""),
	upstream.Timeout:          translate.NewFailure(http.StatusGatewayTimeout, translate.CodeUpstreamTimeout, "the upstream did not answer in time"),
	upstream.Unreachable:      translate.NewFailure(http.StatusServiceUnavailable, translate.CodeUpstreamDown, "the upstream could not be reached"),
	upstream.BadResponse:      translate.NewFailure(http.StatusBadGateway, translate.CodeUpstreamBadReply, "the upstream sent a response mudscf cannot read"),
}

// breakerFailure is what the client receives while the breaker is open.
var breakerFailure = translate.NewFailure(http.StatusServiceUnavailable, translate.CodeUpstreamDown,
	"the upstream is failing, so mudscf stopped calling it for a few seconds; retry after the Retry-After delay")

// errDraining refuses a new upstream call while the proxy shuts down.
var errDraining = errors.New("the proxy is shutting down and makes no new upstream call")

// drainingFailure answers a cache miss without a stale answer during the
// drain: by the Retry-After second the load balancer sends the client to
// another replica.
var drainingFailure = translate.NewFailure(http.StatusServiceUnavailable, translate.CodeUpstreamDown,
	"this replica is shutting down and has no cached answer; retry after the Retry-After delay")

// httpFailure is the envelope for Echo's own errors: routing and limits.
func httpFailure(he *echo.HTTPError) translate.Failure {
	switch he.Code {
	case http.StatusNotFound:
		return translate.NewFailure(he.Code, translate.CodeNotFound, "no such route; see GET "+LogsRoute)
	case http.StatusMethodNotAllowed:
		return translate.NewFailure(he.Code, "METHOD_NOT_ALLOWED", "only GET and HEAD are served on this route")
	case http.StatusRequestURITooLong:
		return translate.NewFailure(he.Code, "REQUEST_TOO_LARGE", fmt.Sprintf("the path and query exceed %d bytes", maxRequestURIBytes))
	case http.StatusRequestEntityTooLarge:
		return translate.NewFailure(he.Code, "REQUEST_TOO_LARGE", "this API takes no request body")
	}
	if he.Code < 500 {
		return translate.NewFailure(he.Code, "BAD_REQUEST", http.StatusText(he.Code))
	}
	return translate.NewFailure(http.StatusInternalServerError, translate.CodeInternal, "internal error")
}

// handleEchoError writes the envelope for err, once.
func (s *Server) handleEchoError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The client left; nobody reads an answer. 499 is for the logs only.
		c.Response().Status = 499
		return
	}
	f, retryAfter := failureFor(err)
	if f.Status == http.StatusTooManyRequests || retryAfter > 0 {
		// Whole seconds, at least one: a 429 always says when to come back,
		// and so does a 503 from the open circuit breaker.
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retryAfter.Seconds())))))
	}
	if f.Status >= 500 {
		s.logger.LogAttrs(c.Request().Context(), slog.LevelWarn, "upstream or internal failure",
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)), slog.String("err", err.Error()))
	}
	s.setWriteDeadline(c)
	if err := c.JSON(f.Status, f.Body); err != nil {
		s.logger.Warn("writing an error response", "err", err)
	}
}

// observe records every request: one structured log line and the request
// metrics, after the error handler has settled the status.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		elapsed := time.Since(start)
		s.metrics.request(route, status, elapsed, trace.SpanContextFromContext(c.Request().Context()))
		// Cache hits are the hot path and the bulk of the traffic: their
		// access log is at debug; everything else is logged at info.
		level := slog.LevelInfo
		if status == http.StatusOK && c.Response().Header().Get("X-Cache") == cacheHit {
			level = slog.LevelDebug
		}
		if s.logger.Enabled(c.Request().Context(), level) {
			s.logger.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", c.Request().Method),
				slog.String("route", route),
				slog.String("project", c.Param("projectId")),
				slog.String("function", c.Param("functionId")),
				slog.Int("status", status),
				slog.String("cache", c.Response().Header().Get("X-Cache")),
				slog.Float64("duration_seconds", elapsed.Seconds()))
		}
		return nil
	}
}

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.logger.Error("panic while serving a request",
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err.Error(), "stack", string(stack))
	return failure(translate.NewFailure(http.StatusInternalServerError, translate.CodeInternal, "internal error"))
}
