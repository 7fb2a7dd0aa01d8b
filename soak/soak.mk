# Long soak run, included by the main Makefile; not part of `make test`.
#
#   make soak                          10M loggen lines at 100k lines/s, rotated
#                                      every 1M lines, one SIGHUP halfway
#   make soak SOAK_LINES=1000000       a shorter run
#   make soak SOAK_FLAGS=-keep         keep the work directory
#
# Then the rotation matrix (every real rotator x running, SIGTERM, kill -9,
# stalled output x path and glob) at 20k lines/s instead of make test's 2k.
#
# It checks that every line written was read, and forwarded or suppressed,
# by the output files and by /metrics, and prints the numbers.

SOAK_LINES  ?= 10000000
SOAK_RATE   ?= 100000
SOAK_ROTATE ?= 1000000
SOAK_FLAGS  ?=

.PHONY: soak
soak: build
	$(GO) run ./soak -logsift bin/logsift -lines $(SOAK_LINES) -rate $(SOAK_RATE) -rotate $(SOAK_ROTATE) $(SOAK_FLAGS)
	LOGSIFT_SOAK=1 $(GO) test -count=1 -v -timeout 30m -run '^TestRotationMatrix$$' ./cmd/logsift
