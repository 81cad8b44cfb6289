# The README's commands, so CI and people run the same thing.
GO ?= go

.PHONY: test vet unit fuzz bench soak build demo simulate

# The test command the README gives and .ci/run runs.
test: vet unit

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt would change the files above"; exit 1; }

unit:
	$(GO) test -race -count=1 ./...

# Short fuzzing of every translate parser beyond the committed corpora.
FUZZTIME ?= 20s
fuzz:
	@for f in $$($(GO) test ./translate -list 'Fuzz.*' | grep ^Fuzz); do \
		$(GO) test ./translate -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/mudscf ./cmd/mudscf

demo:
	$(GO) run ./cmd/mudscf demo

simulate:
	$(GO) run ./cmd/mudscf simulate

# The figures in BENCHMARKS.md (about 20 minutes; needs nginx and jq). A
# failed run leaves the old file in place.
bench:
	.ci/bench/run > BENCHMARKS.md.new && mv BENCHMARKS.md.new BENCHMARKS.md

# Ten minutes of steady mixed load on the demo; writes BENCHMARKS.md's Soak
# section (SOAK_DURATION in seconds overrides).
soak:
	.ci/bench/soak.sh
