# Long soak run, included by the main Makefile; not part of `make test`.
#
#   make soak                          10M loggen lines at 100k lines/s, rotated
#                                      every 1M lines, one SIGHUP halfway
#   make soak SOAK_LINES=1000000       a shorter run
#   make soak SOAK_FLAGS=-keep         keep the work directory
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
