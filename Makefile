# portclass - plain Makefile.  `make`, `make check`, `make bench`,
# `make demo`, `make install PREFIX=... DESTDIR=...`; V=1 for full commands;
# SANITIZE=1 builds everything with AddressSanitizer + UBSan in build-san/;
# BUILDDIR=dir builds the plain programs elsewhere than build/.
# `make deb`: build-deb/portclass_<version>_<arch>.deb (debian/).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/portclass
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions

CC ?= cc
PKG_CONFIG ?= pkg-config
VERSION := 0.1.0

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wsign-compare -Wcast-qual -Wpointer-arith \
	-Wvla -Wno-unused-parameter
OPT ?= -O2 -g
CFLAGS ?= $(OPT)
CPPFLAGS_ALL := -D_GNU_SOURCE -DPORTCLASS_VERSION='"$(VERSION)"' \
	-DPORTCLASS_DATADIR='"$(DATADIR)"' \
	-DPORTCLASS_SYSCONFDIR='"$(SYSCONFDIR)"' -Irules -Ihost $(CPPFLAGS)
CFLAGS_ALL := -std=c11 $(WARN) $(CFLAGS) -pthread

# Hardening, on by default (tests/t_hardening.sh checks the binaries):
# stack protector, fortified libc calls (they need the optimiser), a
# position-independent executable, and relocations made read-only before
# main (full RELRO).  HARDEN= turns it off.
HARDEN ?= 1
ifeq ($(HARDEN),1)
CFLAGS_ALL += -fstack-protector-strong -fPIE
ifneq ($(filter -O1 -O2 -O3 -Os -Og -Ofast,$(CFLAGS)),)
CPPFLAGS_ALL += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
LDFLAGS_HARDEN := -pie -Wl,-z,relro,-z,now
endif

ifeq ($(SANITIZE),1)
B := build-san
CFLAGS_ALL += -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS_SAN := -fsanitize=address,undefined
else
B := $(or $(BUILDDIR),build)
endif

PC_PCAP := $(shell $(PKG_CONFIG) --cflags libpcap 2>/dev/null)
LIBS_PCAP := $(shell $(PKG_CONFIG) --libs libpcap 2>/dev/null || echo -lpcap)
PC_NFQ := $(shell $(PKG_CONFIG) --cflags libnetfilter_queue libmnl 2>/dev/null)
LIBS_NFQ := $(shell $(PKG_CONFIG) --libs libnetfilter_queue libmnl 2>/dev/null || echo -lnetfilter_queue -lnfnetlink -lmnl)
LIBS_MNL := $(shell $(PKG_CONFIG) --libs libmnl 2>/dev/null || echo -lmnl)
PC_CMOCKA := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
LIBS_CMOCKA := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
CFLAGS_ALL += $(PC_PCAP) $(PC_NFQ)
# Compressed captures: zlib, liblzma, libzstd (portclass-replay).
LIBS_COMPRESS := $(shell $(PKG_CONFIG) --libs zlib liblzma libzstd 2>/dev/null || echo -lz -llzma -lzstd)
# Community ID's SHA-1 (host/communityid.c): nettle.
LIBS_NETTLE := $(shell $(PKG_CONFIG) --libs nettle 2>/dev/null || echo -lnettle)
LDLIBS_ALL := $(LIBS_PCAP) $(LIBS_COMPRESS) $(LIBS_NETTLE) -pthread $(LDLIBS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# rules/: the engine (libportclass.a).  host/: front-end helpers that touch
# the running system (sock_diag, /proc, JSON output, logging).
LIB_SRCS := $(sort $(wildcard rules/*.c))
HOST_SRCS := $(sort $(wildcard host/*.c))
CLI_SRCS := $(sort $(wildcard cli/*.c))
REPLAY_SRCS := $(sort $(wildcard pcap-replay/*.c))
NFQ_SRCS := $(sort $(wildcard nfq/*.c))
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(B)/%.o,$(1))

LIB := $(B)/libportclass.a
HOSTLIB := $(B)/libportclass-host.a
# Each front end's modules but its main(), so that unit tests link the
# modules they test (tests never #include a .c file).
NFQLIB := $(B)/libportclass-nfq.a
REPLAYLIB := $(B)/libportclass-replay.a
NFQ_MOD_SRCS := $(filter-out nfq/main.c,$(NFQ_SRCS))
REPLAY_MOD_SRCS := $(filter-out pcap-replay/main.c,$(REPLAY_SRCS))
LIBS_SECCOMP := $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo -lseccomp)
PROGS := $(B)/portclass $(B)/portclass-replay $(B)/portclass-nfq
TESTS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS))
TOOLS := $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRCS))

all: $(PROGS)

# Paths compiled into the programs: when PREFIX or DATADIR change, the
# stamp changes and everything that could embed them is rebuilt, so
# `make install PREFIX=/usr` never installs binaries that look in /usr/local.
$(B)/paths.stamp: FORCE
	@mkdir -p $(B)
	@echo '$(DATADIR) $(SYSCONFDIR)' | cmp -s - $@ || echo '$(DATADIR) $(SYSCONFDIR)' > $@

$(B)/%.o: %.c $(B)/paths.stamp
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(LIB): $(call obj,$(LIB_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

$(HOSTLIB): $(call obj,$(HOST_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

$(NFQLIB): $(call obj,$(NFQ_MOD_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

$(REPLAYLIB): $(call obj,$(REPLAY_MOD_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

LINK = $(if $(Q),@echo "  LD      $@";)$(CC) $(CFLAGS_ALL) $(LDFLAGS_SAN) $(LDFLAGS_HARDEN) $(LDFLAGS) -o $@

# Each program links only what it uses: libpcap for the engine's filter
# compiler, libmnl for sock_diag (host/), netfilter_queue and seccomp for
# the daemon alone.
$(B)/portclass: $(call obj,$(CLI_SRCS)) $(HOSTLIB) $(LIB)
	$(Q)$(LINK) $^ $(LIBS_MNL) $(LDLIBS_ALL)

$(B)/portclass-replay: $(B)/pcap-replay/main.o $(REPLAYLIB) $(HOSTLIB) $(LIB)
	$(Q)$(LINK) $^ $(LDLIBS_ALL)

$(B)/portclass-nfq: $(B)/nfq/main.o $(NFQLIB) $(HOSTLIB) $(LIB)
	$(Q)$(LINK) $^ $(LIBS_NFQ) $(LIBS_SECCOMP) $(LDLIBS_ALL)

$(B)/tests/%: $(B)/tests/%.o $(NFQLIB) $(REPLAYLIB) $(HOSTLIB) $(LIB)
	$(Q)$(LINK) $^ $(LIBS_CMOCKA) $(LIBS_NFQ) $(LIBS_SECCOMP) $(LDLIBS_ALL)

$(B)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) -Infq -Ipcap-replay $(CFLAGS_ALL) $(PC_CMOCKA) -MMD -MP -c -o $@ $<

$(B)/tools/%: $(B)/tests/tools/%.o $(HOSTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(LINK) $^ $(LIBS_NFQ) $(LDLIBS_ALL)

tools: $(TOOLS)

# Unit tests (cmocka, one per module), then the end-to-end shell tests
# (golden captures, corpus, and, as root, network-namespace tests).
check: $(PROGS) $(TESTS) $(TOOLS)
	$(Q)BUILD=$(B) sh tests/run-unit.sh $(TESTS)
	$(Q)BUILD=$(B) sh tests/run-shell.sh

# Unit tests only: quick, no root needed.
check-unit: $(TESTS)
	$(Q)BUILD=$(B) sh tests/run-unit.sh $(TESTS)

bench: $(PROGS) $(TOOLS)
	$(Q)BUILD=$(B) sh tests/bench/run.sh

# The bundled capture (contrib/demo/record.sh made it) under the demo policy,
# with the listener snapshot taken when it was recorded.
demo: $(B)/portclass-replay
	$(Q)$(B)/portclass-replay -c contrib/demo/demo.rules \
		--listeners contrib/demo/listeners.json -r contrib/demo/demo.pcap

install: $(PROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/examples \
		$(DESTDIR)$(UNITDIR)
	install -m 755 $(B)/portclass $(B)/portclass-replay $(DESTDIR)$(BINDIR)/
	install -m 755 $(B)/portclass-nfq $(DESTDIR)$(SBINDIR)/
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 contrib/default.rules $(DESTDIR)$(DATADIR)/
	install -m 644 contrib/examples/*.rules $(DESTDIR)$(DATADIR)/examples/
	install -m 755 contrib/iptables-setup.sh contrib/iptables-teardown.sh contrib/nft-setup.sh $(DESTDIR)$(DATADIR)/
	install -m 644 contrib/queue-conf.sh $(DESTDIR)$(DATADIR)/
	install -m 644 contrib/queue.conf $(DESTDIR)$(DATADIR)/
	install -m 755 contrib/portclass.nft $(DESTDIR)$(DATADIR)/
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 contrib/bash-completion/portclass $(DESTDIR)$(COMPLETIONDIR)/portclass
	ln -sf portclass $(DESTDIR)$(COMPLETIONDIR)/portclass-replay
	ln -sf portclass $(DESTDIR)$(COMPLETIONDIR)/portclass-nfq
	install -d $(DESTDIR)$(SYSCONFDIR)/portclass
	# The site policy starts as the default one and is never overwritten.
	[ -e $(DESTDIR)$(SYSCONFDIR)/portclass/rules.conf ] || \
		install -m 644 contrib/default.rules $(DESTDIR)$(SYSCONFDIR)/portclass/rules.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/portclass/queue.conf ] || \
		install -m 644 contrib/queue.conf $(DESTDIR)$(SYSCONFDIR)/portclass/queue.conf
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
		-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
		contrib/portclass-nfq.service.in > $(DESTDIR)$(UNITDIR)/portclass-nfq.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/portclass $(DESTDIR)$(BINDIR)/portclass-replay \
		$(DESTDIR)$(SBINDIR)/portclass-nfq \
		$(DESTDIR)$(UNITDIR)/portclass-nfq.service
	rm -f $(addprefix $(DESTDIR)$(COMPLETIONDIR)/,portclass portclass-replay portclass-nfq)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard man/*.8)))
	rm -f $(DESTDIR)$(DATADIR)/default.rules \
		$(DESTDIR)$(DATADIR)/iptables-setup.sh \
		$(DESTDIR)$(DATADIR)/iptables-teardown.sh \
		$(DESTDIR)$(DATADIR)/nft-setup.sh \
		$(DESTDIR)$(DATADIR)/queue-conf.sh \
		$(DESTDIR)$(DATADIR)/queue.conf \
		$(DESTDIR)$(DATADIR)/portclass.nft
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/examples/,$(notdir $(wildcard contrib/examples/*.rules)))
	# Only the files installed above; the folders go only when empty, and
	# the site policy in $(SYSCONFDIR) stays.
	-rmdir $(DESTDIR)$(DATADIR)/examples $(DESTDIR)$(DATADIR) 2>/dev/null

# The Debian package, built from a copy of the tree so that neither the
# tree's build directories nor its parent directory are touched.
DEB_B := build-deb
deb:
	rm -rf $(DEB_B)/src && mkdir -p $(DEB_B)/src/portclass-$(VERSION)
	tar --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
		--exclude=./$(DEB_B) --exclude=./.git -cf - . | \
		tar -C $(DEB_B)/src/portclass-$(VERSION) -xf -
	cd $(DEB_B)/src/portclass-$(VERSION) && \
		DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS-parallel=2 noddebs}" \
		dpkg-buildpackage -us -uc -b
	mv $(DEB_B)/src/portclass_$(VERSION)_*.deb $(DEB_B)/
	rm -rf $(DEB_B)/src
	@ls $(DEB_B)/portclass_$(VERSION)_*.deb

# The package on a stock Debian 12 server booted under qemu (tests/vm/run.sh):
# needs root, qemu-system-x86_64 and mmdebstrap, else it says why and skips.
# Always the plain build/: the guest runs tests/vm/t_vm_*.sh and every
# tests/t_nfq_*.sh against it.
check-vm:
	@sh tests/vm/run.sh --check; rc=$$?; [ $$rc -ne 77 ] || exit 0; [ $$rc -eq 0 ] || exit $$rc; \
	$(MAKE) -s SANITIZE= BUILDDIR= all tools || exit 1; \
	mkdir -p $(DEB_B); t0=$$(date +%s); \
	sh tests/vm/run.sh --prepare >$(DEB_B)/prepare.log 2>&1 & prep=$$!; \
	nice -n 10 $(MAKE) -s deb >$(DEB_B)/deb.log 2>&1 || { tail -n 30 $(DEB_B)/deb.log; wait $$prep; exit 1; }; \
	echo "check-vm: make deb: $$(($$(date +%s) - t0)) s (the image is made or found beside it)"; \
	wait $$prep; prc=$$?; cat $(DEB_B)/prepare.log; [ $$prc -eq 0 ] || exit 1; \
	sh tests/vm/run.sh $(DEB_B)/portclass_$(VERSION)_$$(dpkg --print-architecture).deb build; \
	rc=$$?; echo "check-vm: the whole stage: $$(($$(date +%s) - t0)) s"; exit $$rc

clean:
	rm -rf build build-san build-fuzz $(DEB_B)

.PHONY: all check check-unit bench demo install uninstall clean tools deb check-vm FORCE
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# ---- fuzzing (tests/fuzz/) --------------------------------------------------
# `make fuzz`: every libFuzzer harness for FUZZ_SECONDS each, one at a time
# (clang, ASan + UBSan, in build-fuzz/); `make fuzz-smoke`: FUZZ_SMOKE_SECONDS
# each, for CI.  Findings land in build-fuzz/crashes/.  `make check-regress`
# builds the same harnesses as plain programs with $(CC) (and SANITIZE=1)
# and replays tests/regress/<harness>/* and tests/fuzz/seeds/<harness>/*.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_B := build-fuzz
FUZZ_HARNESSES := $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS := $(addprefix $(FUZZ_B)/,$(FUZZ_HARNESSES))
FUZZ_DRIVERS := $(addprefix $(B)/fuzz/,$(FUZZ_HARNESSES))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c11 $(filter-out -Werror,$(WARN)) -g -O1 \
	-fno-omit-frame-pointer $(FUZZ_SAN) -pthread $(PC_PCAP) $(PC_NFQ)
FUZZ_REPLAY_SRCS := $(filter-out pcap-replay/main.c,$(REPLAY_SRCS))
fuzz_obj = $(patsubst %.c,$(FUZZ_B)/%.o,$(1))

$(FUZZ_B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) -Ipcap-replay $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_B)/libportclass.a: $(call fuzz_obj,$(LIB_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/libportclass-host.a: $(call fuzz_obj,$(HOST_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/tests/fuzz/fuzz_%.o $(FUZZ_B)/tests/fuzz/common.o \
		$(FUZZ_B)/libportclass-host.a $(FUZZ_B)/libportclass.a
	$(if $(Q),@echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ \
		$(filter %.o,$^) $(filter %.a,$^) $(LDLIBS_ALL)

$(FUZZ_B)/fuzz_replay: $(call fuzz_obj,$(FUZZ_REPLAY_SRCS))

$(B)/fuzz/fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/standalone.o \
		$(B)/tests/fuzz/common.o $(HOSTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(LINK) $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS_ALL)

$(B)/fuzz/fuzz_replay: $(call obj,$(FUZZ_REPLAY_SRCS))
$(B)/tests/fuzz/fuzz_replay.o: CPPFLAGS_ALL += -Ipcap-replay

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	$(Q)FUZZ_B=$(FUZZ_B) sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-smoke: $(FUZZ_BINS)
	$(Q)FUZZ_B=$(FUZZ_B) FUZZ_SEED=1 sh tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_HARNESSES)

fuzz-drivers: $(FUZZ_DRIVERS)

check-regress: $(FUZZ_DRIVERS)
	$(Q)BUILD=$(B) sh tests/t_regress.sh

fuzz-clean:
	rm -rf $(FUZZ_B)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-drivers check-regress fuzz-clean

-include $(shell find $(FUZZ_B) -name '*.d' 2>/dev/null)

# `make check` also replays every fuzz regression input and seed through the
# harnesses built as plain programs (tests/t_regress.sh).
check: $(FUZZ_DRIVERS)
