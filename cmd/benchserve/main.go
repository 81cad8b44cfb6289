package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mudscf/mudscf/proxy"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	bodyPath := flag.String("body", "", "file whose bytes every request gets (a mudscf cache hit's body)")
	flag.Parse()
	body, err := os.ReadFile(*bodyPath)
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(proxy.LogsRoute, fixedAnswer(body))
	fmt.Printf("benchserve: %d bytes on http://%s%s\n", len(body), *addr, proxy.LogsRoute)
	// The server settings of mudscf's own (proxy.Server.Serve), so that
	// only the handlers differ.
	srv := &http.Server{Addr: *addr, Handler: e, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	log.Fatal(srv.ListenAndServe())
}

// fixedAnswer answers with body and the headers of a mudscf cache hit,
// their values built once. The request ID has the length of mudscf's
// generated ones, so both sides put the same number of bytes on the wire.
func fixedAnswer(body []byte) echo.HandlerFunc {
	header := map[string][]string{
		echo.HeaderContentType:   {echo.MIMEApplicationJSON},
		echo.HeaderContentLength: {strconv.Itoa(len(body))},
		echo.HeaderXRequestID:    {"0123456789abcdef0123456789abcdef"},
		"X-Cache":                {"HIT"},
		"Age":                    {"0"},
	}
	return func(c echo.Context) error {
		h := c.Response().Header()
		for k, v := range header {
			h[k] = v
		}
		c.Response().WriteHeader(http.StatusOK)
		_, err := c.Response().Write(body)
		return err
	}
}
