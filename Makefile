# tierd: one Makefile. `make` builds everything under build/;
# `make check` installs what is missing, builds and runs every test.
#   V=1 shows the commands.
.DELETE_ON_ERROR:
.SUFFIXES:

OUT      := build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := x86

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -I$(OUT)
LDLIBS   := -lbpf -lelf -lz -lnuma -lm $(shell pkg-config --libs libsystemd)
# BPF: libbpf's BPF_PROG/BPF_KPROBE macros leave `ctx` and unused arguments
# behind, hence -Wno-unused-parameter; everything else is an error.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf \
	      -Wall -Wextra -Wno-unused-parameter -Werror

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
LOADER   := $(patsubst loader/%.c,$(OUT)/loader/%.o,$(wildcard loader/*.c))
UNIT     := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(wildcard tests/unit/*.c))

# keep the objects and skeletons make would otherwise delete as intermediates
.SECONDARY: $(BPF_OBJS) $(SKELS)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

.PHONY: all deps check check-kernels demo bench install deb clean san fuzz
all: $(OUT)/tierd $(OUT)/vm-standin $(OUT)/tierd-guest.elf $(OUT)/guest-truth $(OUT)/qmp $(UNIT)

deps:
	$(Q)tools/deps

# The lab suite on the default kernel (6.1) and on the newest 7.x (what CI
# runs: see README, "Kernels"); check-kernels on every line Debian has.
CHECK_KERNELS ?= 6.1 7
# on kernels after the first, make check runs the tests that meet the
# kernel most directly (the samplers, the tiers, the kernel's counters and
# levers, one engine run); check-kernels runs everything everywhere
# (anchored: "probe" alone would match heat-kprobe too)
CHECK_OTHER_TESTS ?= ^lab/(probe|tiers|reclaim-demotes|numa-stat-demotion|promotion-attributed|nvme-latency|sampler-rungs|heat-precision|engine-steers|vm-layouts)(\#|$$)
ALL_KERNELS   ?= 6.1 6.12 6.16 7.2 7.3

# and one boot with systemd as PID 1 for tests/lab-systemd (0: not)
CHECK_SYSTEMD ?= 1

check:
	$(Q)tools/deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)LAB_KERNELS="$(CHECK_KERNELS)" LAB_OTHER_TESTS="$(CHECK_OTHER_TESTS)" LAB_SYSTEMD="$(CHECK_SYSTEMD)" tests/run

check-kernels:
	$(Q)tools/deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)LAB_KERNELS="$(ALL_KERNELS)" tests/run

# make bench: the decision loop's cost as guest RAM grows (outside the lab),
# the samplers' overhead and the tiering comparison (in the lab); the tables
# land in docs/bench.md (a benchmark, not a test), their figures, drawn on
# the host with gnuplot from build/loop.md and the lab's build/bench/*.json,
# in docs/figures/ (the tables link them).
bench:
	$(Q)tools/deps
	$(Q)$(MAKE) --no-print-directory all $(OUT)/bench-loop $(OUT)/bench-readcost
	$(Q)tools/bench/loop.sh >build/loop.md
	$(Q)tools/bench/overhead
	$(Q)tools/bench/run
	$(Q)for f in build/bench.md build/loop.md build/overhead.md; do cat $$f; echo; done >docs/bench.md
	$(Q)tools/bench/plot
	$(Q)echo "bench: docs/bench.md, docs/figures/bench-*.png"

demo:
	$(Q)tools/deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/lab/run -- tools/demo

$(OUT) $(OUT)/loader $(OUT)/tests:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c bpf/common.bpf.h bpf/compat.bpf.h include/tierd.h include/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf >$@

$(OUT)/loader/%.o: loader/%.c $(wildcard loader/*.h) include/tierd.h $(SKELS) | $(OUT)/loader
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Iloader -c $< -o $@

# CPPFLAGS and LDFLAGS are empty unless given (dpkg-buildflags gives them
# for the package: _FORTIFY_SOURCE, relro)
$(OUT)/tierd: $(LOADER)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# the placement reads' cost on the host's kernel (tools/bench/readcost.c)
$(OUT)/bench-readcost: tools/bench/readcost.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -lnuma -o $@

$(OUT)/bench-loop: tools/bench/loop.c $(filter-out $(OUT)/loader/main.o,$(LOADER)) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iloader $^ $(LDLIBS) -o $@

# every decision of the epoch code, digested (engine.c included, not linked)
$(OUT)/bench-decisions: tools/bench/decisions.c loader/engine.c $(filter-out $(OUT)/loader/main.o $(OUT)/loader/engine.o,$(LOADER)) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iloader $(filter-out loader/engine.c,$^) $(LDLIBS) -o $@

$(OUT)/vm-standin: tools/vm-standin.c $(OUT)/loader/util.o | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iloader $^ -lnuma -lm -o $@

# The bare-metal guest for real VMs (tools/guest): 32-bit multiboot ELF,
# freestanding, booted by QEMU's -kernel; no 32-bit libc needed.
GUEST_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
		-fno-asynchronous-unwind-tables -mno-sse -mno-mmx -O2 -std=gnu11 -Wall -Wextra -Werror
$(OUT)/guest:
	$(Q)mkdir -p $@
$(OUT)/guest/%.o: tools/guest/%.c | $(OUT)/guest
	$(call msg,CC,$@)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(OUT)/guest/%.o: tools/guest/%.S | $(OUT)/guest
	$(call msg,AS,$@)
	$(Q)$(CC) -m32 -c $< -o $@
$(OUT)/tierd-guest.elf: $(OUT)/guest/boot.o $(OUT)/guest/guest.o tools/guest/guest.ld
	$(call msg,LD,$@)
	$(Q)ld -m elf_i386 -static -nostdlib --no-warn-rwx-segments -T tools/guest/guest.ld $(filter %.o,$^) -o $@

$(OUT)/qmp: tools/qmp-cli.c tools/qmp.c tools/qmp.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itools tools/qmp-cli.c tools/qmp.c -o $@

$(OUT)/guest-truth: tools/guest-truth.c tools/qmp.c tools/qmp.h $(OUT)/loader/util.o | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iloader -Itools tools/guest-truth.c tools/qmp.c $(OUT)/loader/util.o -lnuma -lm -o $@

# Unit tests link the loader's objects, less its main().
$(OUT)/tests/%: tests/unit/%.c tests/unit/check.h $(filter-out $(OUT)/loader/main.o,$(LOADER)) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iloader $(filter-out %.h,$^) $(LDLIBS) -o $@

# Sanitizer builds, with clang 14: the loader's objects (less main) with
# ASan, UBSan (no recovery: any report fails) and libFuzzer's coverage under
# build/san/; the unit tests linked with them (build/san/tests/) and one
# libFuzzer harness per tests/fuzz/*.c (build/fuzz/<name>). `make san`
# builds them; tests/run replays the checked-in corpora and runs those unit
# tests; `make fuzz [FUZZ_SECONDS=60] [FUZZ=name...]` fuzzes each harness
# for that long and prints its executions (tests/fuzz/run).
SAN      := $(OUT)/san
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -I$(OUT) -Iloader $(SAN_FLAGS)
SAN_LOADER := $(patsubst loader/%.c,$(SAN)/loader/%.o,$(filter-out loader/main.c,$(wildcard loader/*.c)))
SAN_UNIT := $(patsubst tests/unit/%.c,$(SAN)/tests/%,$(wildcard tests/unit/*.c))
FUZZERS  := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(wildcard tests/fuzz/*.c))
FUZZ_SECONDS ?= 60
.SECONDARY: $(SAN_LOADER)

san: $(SAN_UNIT) $(FUZZERS)

fuzz: san
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ)

$(SAN)/loader $(SAN)/tests $(OUT)/fuzz:
	$(Q)mkdir -p $@

$(SAN)/loader/%.o: loader/%.c $(wildcard loader/*.h) include/tierd.h $(SKELS) | $(SAN)/loader
	$(call msg,SAN-CC,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(SAN)/tests/%: tests/unit/%.c tests/unit/check.h $(SAN_LOADER) | $(SAN)/tests
	$(call msg,SAN-CC,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) $(filter-out %.h,$^) $(LDLIBS) -o $@

$(OUT)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(SAN_LOADER) | $(OUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer $(filter-out %.h,$^) $(LDLIBS) -o $@

# make install [PREFIX=/usr/local] [DESTDIR=] [SNIPPETS=/var/lib/vz/snippets]
# [UNITDIR=]: the binary, the systemd unit, the man pages, the hookscript
# (and a copy in SNIPPETS when given), an example tierd.cfg, the Grafana
# dashboard, and /etc/tierd/tierd.conf unless one is there already.
# debian/rules stages the package with it.
PREFIX ?= /usr/local
SBINDIR = $(PREFIX)/sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
SHAREDIR = $(PREFIX)/share/tierd
install: $(OUT)/tierd
	$(Q)install -D -m 0755 $(OUT)/tierd $(DESTDIR)$(SBINDIR)/tierd
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' tools/systemd/tierd.service.in >$(DESTDIR)$(UNITDIR)/tierd.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/tierd.service
	$(Q)install -D -m 0644 man/tierd.8 $(DESTDIR)$(MANDIR)/man8/tierd.8
	$(Q)install -D -m 0644 man/tierd.conf.5 $(DESTDIR)$(MANDIR)/man5/tierd.conf.5
	$(Q)install -D -m 0755 tools/proxmox/tierd-hook $(DESTDIR)$(SHAREDIR)/tierd-hook
	$(Q)install -D -m 0644 tools/proxmox/tierd.cfg.example $(DESTDIR)$(SHAREDIR)/tierd.cfg.example
	$(Q)install -D -m 0644 tools/proxmox/tierd.conf $(DESTDIR)$(SHAREDIR)/tierd.conf.example
	$(Q)install -D -m 0644 tools/grafana/tierd-dashboard.json $(DESTDIR)$(SHAREDIR)/tierd-dashboard.json
	$(Q)[ -e $(DESTDIR)/etc/tierd/tierd.conf ] || install -D -m 0644 tools/proxmox/tierd.conf $(DESTDIR)/etc/tierd/tierd.conf
	$(Q)if [ -n "$(SNIPPETS)" ]; then install -D -m 0755 tools/proxmox/tierd-hook $(DESTDIR)$(SNIPPETS)/tierd-hook; fi
	$(Q)echo "installed under $(DESTDIR)$(PREFIX): sbin/tierd, the unit, man pages, $(SHAREDIR)/tierd-hook; /etc/tierd/tierd.conf"

# make deb [DEB_OUT=build/deb] [LINTIAN=0]: tierd_<version>_amd64.deb from
# debian/ with dpkg-buildpackage, built in a copy of the tree under DEB_OUT
# (its clean step would otherwise wipe build/), then checked with lintian.
DEB_OUT ?= $(OUT)/deb
deb:
	$(Q)DEB_OUT="$(DEB_OUT)" LINTIAN="$(LINTIAN)" tools/deb

clean:
	$(Q)rm -rf $(OUT)
