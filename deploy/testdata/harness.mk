# Stands in for the top-level Makefile so that tests exercise deploy.mk on
# its own: the test provides the binary at LOGSIFT_BIN.
VERSION ?= v1.2.3-4-gabcdef

.PHONY: build
build:
	@test -x '$(LOGSIFT_BIN)' || { echo 'no binary at $(LOGSIFT_BIN)' >&2; exit 1; }

include deploy/deploy.mk
