# The README's commands, so CI and people run the same thing.
GO ?= go

# Build and test with Go 1.27.3, which the go command fetches from the
# module proxy on first use: the standard library of Go 1.26.8 (this
# machine kind's) has vulnerabilities govulncheck reports as reachable
# (HTTP/2, x509), fixed in releases this workplace's module proxy does not
# serve below 1.27.3. go.mod still says go 1.26.0, so `go run` with 1.26
# works for the demo. Set GOTOOLCHAIN to override.
export GOTOOLCHAIN ?= go1.27.3

.PHONY: test vet lint unit fuzz bench soak build demo simulate

# The test command the README gives and .ci/run runs.
test: vet lint unit

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt would change the files above"; exit 1; }

# golangci-lint (.golangci.yml) and govulncheck against the Go
# vulnerability database built offline from a pinned golang.org/x/vulndb
# (.ci/lint says how). .ci/run installs both tools; outside CI a missing
# one is skipped with a message.
lint:
	.ci/lint

unit:
	$(GO) test -race -count=1 ./...

# Short fuzzing of every fuzz target (translate's parsers, the proxy's HTTP
# edge and JWT handling) beyond the committed corpora.
FUZZTIME ?= 20s
FUZZPKGS ?= ./translate ./proxy ./internal/jwtauth
fuzz:
	@for p in $(FUZZPKGS); do \
		for f in $$($(GO) test $$p -list 'Fuzz.*' | grep ^Fuzz); do \
			$(GO) test $$p -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

# The same static binary the Dockerfile builds, stamped as its build
# arguments stamp it: what mudscf --version and mudscf_build_info report.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VERSION_PKG := github.com/prometheus/common/version
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) -X $(VERSION_PKG).Branch=$(BRANCH)" -o bin/mudscf ./cmd/mudscf

demo:
	$(GO) run ./cmd/mudscf demo

simulate:
	$(GO) run ./cmd/mudscf simulate

# The figures in BENCHMARKS.md (about 45 minutes; needs Debian's wrk, nginx
# and jq, and 2 cores). Each section's script measures both sides of its
# ratios in one run, alternating them round by round. A failed run leaves
# the old file in place.
bench:
	.ci/bench/run > BENCHMARKS.md.new && mv BENCHMARKS.md.new BENCHMARKS.md || { rm -f BENCHMARKS.md.new; exit 1; }

# Ten minutes of steady mixed load on the demo; writes BENCHMARKS.md's Soak
# section (SOAK_DURATION in seconds overrides).
soak:
	.ci/bench/soak.sh
