# logsift — the documented entry points. CI runs `make test`.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)
# An execution count, not a duration: Go 1.26's fuzz coordinator can fail a
# clean run with "context deadline exceeded" when a -fuzztime duration ends
# while a worker is mid-call (go.dev/issue/75804); a count has no deadline.
FUZZTIME ?= 100000x

# Fuzz targets as package:target pairs; `make fuzz` runs each for FUZZTIME.
FUZZ_TARGETS := ./filters:FuzzAssembler ./filters:FuzzPrefix ./rules:FuzzParse \
	./record:FuzzDecodeDocker ./record:FuzzJSONView ./record:FuzzCRI ./record:FuzzSuffix \
	./inputs:FuzzExport

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test unit vet lint fuzz demo clean

all: build

# A static binary (no cgo): the package depends on nothing, and it runs on
# any Linux of its architecture. The tests build their own -race binary.
BIN ?= bin/logsift
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/logsift

vet:
	$(GO) vet ./...

# Extra static analysis (fetches staticcheck through the module proxy).
lint: vet
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 -timeout 15m ./...

# vet, every unit and integration test under the race detector, then a short
# run of every fuzz target.
test: vet unit
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

# Runs the built binary with the built-in rules on a bundled real capture
# and shows what was suppressed.
demo: build
	@sh testdata/demo/demo.sh bin/logsift

clean:
	rm -rf bin dist .bench .demo

-include bench/bench.mk
-include deploy/deploy.mk
-include soak/soak.mk
