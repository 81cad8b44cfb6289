package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRunCountsStatusCacheAndClasses(t *testing.T) {
	var windows, unwindowed int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hit":
			if r.Header.Get("Authorization") != "Bearer t" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("X-Cache", "HIT")
			w.Header().Set("Age", "7")
		case "/limited":
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case "/window":
			if r.URL.Query().Get("since") != "" && r.URL.Query().Get("until") != "" {
				windows++
			} else {
				unwindowed++
			}
		}
		if _, err := w.Write([]byte("{}")); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()

	cfg := Config{
		Mix: []Class{
			{Name: "hit", Weight: 1, URLs: []string{srv.URL + "/hit"}, Header: map[string]string{"Authorization": "Bearer t"}},
			{Name: "limited", Weight: 1, URLs: []string{srv.URL + "/limited"}},
			{Name: "window", Weight: 1, URLs: []string{srv.URL + "/window"}, VaryWindow: true},
		},
		// One client keeps the server's counters free of races.
		Clients: 1, Rate: 200, Duration: 300 * time.Millisecond, Timeout: time.Second, ZipfS: 1.1, ZipfV: 1, Seed: 7,
	}
	res, err := Run(context.Background(), cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent == 0 || res.Completed != res.Sent || res.Errors != 0 {
		t.Fatalf("sent %d, completed %d, errors %d", res.Sent, res.Completed, res.Errors)
	}
	c := res.ByClass
	if c["hit"]["200"]+c["limited"]["429"]+c["window"]["200"] != res.Sent || res.Status["429"] != c["limited"]["429"] {
		t.Fatalf("by class %v, status %v", c, res.Status)
	}
	if res.Cache["HIT"] != c["hit"]["200"] || res.Cache["none"] != c["window"]["200"] {
		t.Fatalf("cache %v, by class %v", res.Cache, c)
	}
	if res.Age["7"] != c["hit"]["200"] || res.Age["none"] != c["window"]["200"] || len(res.Age) != 2 {
		t.Fatalf("age %v, by class %v", res.Age, c)
	}
	if int64(windows) != c["window"]["200"] || unwindowed != 0 {
		t.Fatalf("%d windowed, %d without a window", windows, unwindowed)
	}
	if res.LatencyMs["p50"] <= 0 || res.LatencyMs["p99"] < res.LatencyMs["p50"] {
		t.Fatalf("latency %v", res.LatencyMs)
	}
}

func TestConfigValidation(t *testing.T) {
	good := Config{Mix: []Class{{Name: "a", Weight: 1, URLs: []string{"http://127.0.0.1/"}}},
		Clients: 1, Rate: 1, Duration: time.Second, Timeout: time.Second, ZipfS: 1.1, ZipfV: 1}
	for name, mutate := range map[string]func(*Config){
		"no mix":      func(c *Config) { c.Mix = nil },
		"no clients":  func(c *Config) { c.Clients = 0 },
		"zero rate":   func(c *Config) { c.Rate = 0 },
		"zipf s <= 1": func(c *Config) { c.ZipfS = 1 },
		"no urls":     func(c *Config) { c.Mix = []Class{{Name: "a", Weight: 1}} },
		"bad url":     func(c *Config) { c.Mix = []Class{{Name: "a", Weight: 1, URLs: []string{"http://[::1"}}} },
	} {
		c := good
		mutate(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
}

func TestAgeOf(t *testing.T) {
	for h, want := range map[string]string{
		"": "none", "0": "0", "12": "12", "007": "7", "-1": "none", "1.5": "none", "99999999999999999999": "none",
		" 3": "none", //nolint:gocritic // mapKey: the leading space is the case under test

	} {
		if got := ageOf(h); got != want {
			t.Errorf("ageOf(%q) = %q, want %q", h, got, want)
		}
	}
}
