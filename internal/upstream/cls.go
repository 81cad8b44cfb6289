package upstream

import (
	"context"

	"github.com/mudscf/mudscf/translate"
)

// CLS API coordinates of the action mudscf calls.
const (
	clsService = "cls"
	clsVersion = "2020-10-16"
	searchLog  = "SearchLog"
	// searchLogTopic labels the waits for a topic's concurrent queries,
	// a budget of its own beside the account's SearchLog rate.
	searchLogTopic = "SearchLog-topic"

	// DefaultCLSEndpoint is the CLS endpoint that routes by the Region
	// header.
	DefaultCLSEndpoint = "cls.tencentcloudapi.com"
)

// CLSClient calls CLS (Cloud Log Service) through the official SDK, with
// the same settings as Client: no retries, no rerouting, no debug output.
type CLSClient struct{ api }

// NewCLSClient builds a CLS client; cfg.Endpoint defaults to
// DefaultCLSEndpoint.
func NewCLSClient(cfg ClientConfig) (*CLSClient, error) {
	a, err := newAPI(cfg, DefaultCLSEndpoint, clsService, clsVersion)
	if err != nil {
		return nil, err
	}
	return &CLSClient{a}, nil
}

// SearchLog makes one call. Errors are *APIError or *TransportError.
func (c *CLSClient) SearchLog(ctx context.Context, req translate.SearchLogRequest) (translate.SearchLogResponse, error) {
	var out translate.SearchLogResponse
	err := c.call(ctx, searchLog, req, &out)
	return out, err
}
