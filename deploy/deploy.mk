# Installation and Debian packaging. Included by the top-level Makefile,
# which defines VERSION and the `build` target that produces bin/logsift.
#
#   make install [DESTDIR=...] [PREFIX=/usr] [SYSCONFDIR=/etc]
#   make uninstall
#   make deb        -> dist/logsift_<version>_<arch>.deb

# Keep whatever default goal the including Makefile has: the targets below
# must never become what a bare `make` runs.
deploy_saved_goal := $(.DEFAULT_GOAL)

PREFIX      ?= /usr
SYSCONFDIR  ?= /etc
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
# Debian (bookworm) ships units in /lib/systemd/system; any other prefix
# uses the prefix's own lib/systemd/system, which systemd also searches
# for /usr/local.
UNITDIR     ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
INSTALL     ?= install
LOGSIFT_BIN ?= bin/logsift
DIST_DIR    ?= dist

# Debian versions must start with a digit and sort sensibly: "v1.2.0" ->
# "1.2.0", a `git describe` suffix "1.2.0-3-gabc" -> "1.2.0+3+gabc" (newer
# than 1.2.0), and anything that is not a release number - a bare commit
# "4e47277-dirty", "dev" - sorts before every release: "0~4e47277+dirty".
DEB_VERSION    ?= $(shell printf '%s' '$(VERSION)' | sed -e 's/^v//' -e 's/-/+/g' -e '/^[0-9][0-9]*\./!s/^/0~/')
DEB_ARCH       ?= $(shell dpkg --print-architecture 2>/dev/null || go env GOARCH)
DEB_MAINTAINER ?= logsift maintainers <maintainers@logsift.invalid>
DEB_STAGE      ?= $(DIST_DIR)/deb-root
DEB_FILE       ?= $(DIST_DIR)/logsift_$(DEB_VERSION)_$(DEB_ARCH).deb

.PHONY: install uninstall deb

# The unit and its paths are written for /usr and /etc; other locations are
# substituted so the installed unit starts the installed binary.
install: build
	$(INSTALL) -d -m 0755 '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(UNITDIR)' \
		'$(DESTDIR)$(SYSCONFDIR)/logsift' '$(DESTDIR)$(SYSCONFDIR)/logrotate.d'
	$(INSTALL) -m 0755 '$(LOGSIFT_BIN)' '$(DESTDIR)$(BINDIR)/logsift'
	sed -e 's|/usr/bin/logsift|$(BINDIR)/logsift|g' \
		-e 's|/etc/logsift/|$(SYSCONFDIR)/logsift/|g' \
		deploy/systemd/logsift.service > '$(DESTDIR)$(UNITDIR)/logsift.service.tmp'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/logsift.service.tmp'
	mv -f '$(DESTDIR)$(UNITDIR)/logsift.service.tmp' '$(DESTDIR)$(UNITDIR)/logsift.service'
	sed -e 's|/usr/bin/logsift|$(BINDIR)/logsift|g' \
		-e 's|/etc/logsift/|$(SYSCONFDIR)/logsift/|g' \
		deploy/systemd/logsift-exec@.service > '$(DESTDIR)$(UNITDIR)/logsift-exec@.service'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/logsift-exec@.service'
	sed -e 's|/usr/bin/logsift|$(BINDIR)/logsift|g' \
		-e 's|/etc/logsift/|$(SYSCONFDIR)/logsift/|g' \
		-e 's|/usr/share/logsift/|$(DATADIR)/logsift/|g' \
		deploy/systemd/logsift-journal.service > '$(DESTDIR)$(UNITDIR)/logsift-journal.service'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/logsift-journal.service'
	@# An existing configuration is the operator's: never overwrite it.
	if [ -e '$(DESTDIR)$(SYSCONFDIR)/logsift/logsift.yaml' ]; then \
		echo 'keeping existing $(DESTDIR)$(SYSCONFDIR)/logsift/logsift.yaml'; \
	else \
		$(INSTALL) -m 0644 deploy/logsift.yaml '$(DESTDIR)$(SYSCONFDIR)/logsift/logsift.yaml'; \
	fi
	$(INSTALL) -m 0644 deploy/logrotate/logsift '$(DESTDIR)$(SYSCONFDIR)/logrotate.d/logsift'
	$(INSTALL) -d -m 0755 '$(DESTDIR)$(DATADIR)/logsift/prometheus' '$(DESTDIR)$(DATADIR)/logsift/grafana' \
		'$(DESTDIR)$(DATADIR)/logsift/examples' \
		'$(DESTDIR)$(DATADIR)/man/man1' '$(DESTDIR)$(DATADIR)/bash-completion/completions' \
		'$(DESTDIR)$(DATADIR)/zsh/vendor-completions'
	$(INSTALL) -m 0644 deploy/prometheus/alerts.yml '$(DESTDIR)$(DATADIR)/logsift/prometheus/alerts.yml'
	$(INSTALL) -m 0644 deploy/grafana/logsift.json '$(DESTDIR)$(DATADIR)/logsift/grafana/logsift.json'
	$(INSTALL) -m 0644 deploy/journal.yaml '$(DESTDIR)$(DATADIR)/logsift/examples/journal.yaml'
	$(INSTALL) -m 0644 deploy/examples/otlp.yaml deploy/examples/otelcol-loki.yaml deploy/examples/syslog.yaml \
		deploy/examples/rsyslog-relay.conf '$(DESTDIR)$(DATADIR)/logsift/examples/'
	$(INSTALL) -m 0644 deploy/completion/logsift.bash '$(DESTDIR)$(DATADIR)/bash-completion/completions/logsift'
	$(INSTALL) -m 0644 deploy/completion/_logsift '$(DESTDIR)$(DATADIR)/zsh/vendor-completions/_logsift'
	@# The man page is the commands' own help.
	'$(LOGSIFT_BIN)' manpage | gzip -9n > '$(DESTDIR)$(DATADIR)/man/man1/logsift.1.gz'
	chmod 0644 '$(DESTDIR)$(DATADIR)/man/man1/logsift.1.gz'

# Leaves the configuration in place, as package removal does.
uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/logsift' '$(DESTDIR)$(UNITDIR)/logsift.service' \
		'$(DESTDIR)$(UNITDIR)/logsift-exec@.service' \
		'$(DESTDIR)$(UNITDIR)/logsift-journal.service' \
		'$(DESTDIR)$(SYSCONFDIR)/logrotate.d/logsift' \
		'$(DESTDIR)$(DATADIR)/man/man1/logsift.1.gz' \
		'$(DESTDIR)$(DATADIR)/bash-completion/completions/logsift' \
		'$(DESTDIR)$(DATADIR)/zsh/vendor-completions/_logsift'
	rm -rf '$(DESTDIR)$(DATADIR)/logsift'

deb: build
	@test -n '$(VERSION)' || { echo 'deb: VERSION is not set' >&2; exit 1; }
	rm -rf '$(DEB_STAGE)'
	$(MAKE) --no-print-directory -f '$(firstword $(MAKEFILE_LIST))' install \
		DESTDIR='$(abspath $(DEB_STAGE))' PREFIX=/usr SYSCONFDIR=/etc \
		UNITDIR=/lib/systemd/system BINDIR=/usr/bin DATADIR=/usr/share
	$(INSTALL) -d -m 0755 '$(DEB_STAGE)/DEBIAN' '$(DEB_STAGE)/usr/share/doc/logsift'
	$(INSTALL) -m 0644 deploy/README.md '$(DEB_STAGE)/usr/share/doc/logsift/README.md'
	$(INSTALL) -m 0644 deploy/deb/copyright '$(DEB_STAGE)/usr/share/doc/logsift/copyright'
	@# A cgo build links the C library; a pure Go build needs nothing.
	depends=; if go version -m '$(LOGSIFT_BIN)' 2>/dev/null | grep -q 'CGO_ENABLED=1'; then \
		depends='libc6'; fi; \
	size=$$(du -sk --apparent-size --exclude=DEBIAN '$(DEB_STAGE)' | cut -f1); \
	sed -e 's|@VERSION@|$(DEB_VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' \
		-e 's|@MAINTAINER@|$(DEB_MAINTAINER)|' -e "s|@SIZE@|$$size|" \
		-e "s|@DEPENDS@|$$depends|" -e '/^Depends: *$$/d' \
		deploy/deb/control.in > '$(DEB_STAGE)/DEBIAN/control'
	$(INSTALL) -m 0644 deploy/deb/conffiles '$(DEB_STAGE)/DEBIAN/conffiles'
	$(INSTALL) -m 0755 deploy/deb/postinst deploy/deb/prerm deploy/deb/postrm '$(DEB_STAGE)/DEBIAN/'
	@# dpkg-deb rejects group- or world-writable control files; a strict
	@# umask must not leak into the package either.
	chmod -R u+rwX,go=rX '$(DEB_STAGE)'
	$(INSTALL) -d -m 0755 '$(DIST_DIR)'
	dpkg-deb --build --root-owner-group '$(DEB_STAGE)' '$(DEB_FILE)'

.DEFAULT_GOAL := $(deploy_saved_goal)
