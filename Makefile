# The README's commands, so CI and people run the same thing.
GO ?= go

.PHONY: test vet unit fuzz bench build demo simulate

# The test command the README gives and .ci/run runs.
test: vet unit

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt would change the files above"; exit 1; }

unit:
	$(GO) test -race -count=1 ./...

# Short fuzzing of every fuzz target (translate's parsers, the proxy's HTTP
# edge and JWT handling) beyond the committed corpora.
FUZZTIME ?= 20s
FUZZPKGS ?= ./translate ./proxy
fuzz:
	@for p in $(FUZZPKGS); do \
		for f in $$($(GO) test $$p -list 'Fuzz.*' | grep ^Fuzz); do \
			$(GO) test $$p -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

# The same static binary the Dockerfile builds.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/mudscf ./cmd/mudscf

demo:
	$(GO) run ./cmd/mudscf demo

simulate:
	$(GO) run ./cmd/mudscf simulate

# The figures in BENCHMARKS.md. Each round runs both sides of the ratio in
# one process, one after the other, so a noisy machine hits both alike.
ROUNDS ?= 5
bench:
	@for i in $$(seq $(ROUNDS)); do $(GO) test ./proxy -run '^$$' -bench 'CacheHit' -benchtime 2s -count 1 | grep ^Benchmark; done | \
		awk '/bare-echo/{b=$$3} /mudscf-/{r=b/$$3; printf "round %d: bare echo %d ns/op, mudscf %d ns/op, mudscf/bare throughput %.2f\n", ++n, b, $$3, r}' 
