# vforkshim: build, test and install.
#   make            build/libvforkshim.so
#   make check      unit and integration tests (installs Check if root)
#   make demo       spawn cost in a 2 GiB process, with and without the shim
#   make bench      every benchmark; writes docs/PERFORMANCE.md (bench-memory,
#                   bench-runtimes, bench-concurrency, bench-overhead, bench-enomem)
#   make check-peers  runtimes' and libc's own test suites under the shim
#   make check-nodes  Node as nodejs.org builds it, 20 and 22
#   make deb        a Debian package (build/deb/); make check-deb tries it
#                   in clean bookworm and trixie chroots (root)
#   make check-userlands  make check and the runtimes in Debian 11 to sid
#                   chroots (root; RELEASES="bullseye sid" for some)
#   make check SANITIZE=address,undefined
#                   the library and the tests built with ASan and UBSan,
#                   in build/san-address-undefined/
#   make cross ARCH=i386|aarch64|...   build with Debian's cross compiler
#   make check-arch [ARCH=...]  the clone stubs on real kernels (qemu-system)
#   make check-arch-runtimes  the runtimes' and concurrency tests in an arm64
#                   bookworm userland on a real kernel (qemu-system-aarch64)
#   make install    PREFIX, LIBDIR, BINDIR, MANDIR, DESTDIR as usual;
#                   make uninstall removes exactly what it wrote

ARCH_GIVEN := $(filter command line,$(origin ARCH))
ARCH ?= $(shell uname -m)
# the names uname and Debian use for them: i686 is i386, arm64 aarch64,
# armv7l arm (armhf)
override ARCH := $(patsubst i%86,i386,$(patsubst arm64,aarch64,$(patsubst armv7l,arm,$(ARCH))))
STUB_ARCHS := x86_64 i386 aarch64 arm riscv64 ppc64le s390x
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
B := build
comma := ,

# SANITIZE=address,undefined: everything is built with the sanitizers into
# a folder of its own, and the tests preload their runtimes ahead of the
# library (a preloaded ASan library must not come before libasan).
ifneq ($(SANITIZE),)
B := build/san-$(subst $(comma),-,$(SANITIZE))
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_PRELOAD := $(foreach s,$(subst $(comma), ,$(SANITIZE)),$(if $(filter address,$(s)),$(shell $(CC) -print-file-name=libasan.so))$(if $(filter undefined,$(s)), $(shell $(CC) -print-file-name=libubsan.so)))
export SAN_PRELOAD
endif
export B

CC ?= cc
CFLAGS ?= -O2 -g
override CFLAGS += $(SAN_FLAGS)
# -funwind-tables: fork() walks its own frames first (sites.c); on Arm,
# C code has no unwind tables unless asked
SHIM_CFLAGS := -std=gnu11 -Wall -Wextra -fPIC -fvisibility=hidden -Ishim/engine/core -Ishim/common \
	-ftls-model=initial-exec -D_GNU_SOURCE -MD -MP -funwind-tables
SHIM_LDFLAGS := -shared -Wl,-z,now -Wl,-z,relro -Wl,-z,noexecstack -Wl,--no-undefined \
	-Wl,--version-script=shim/engine/engine.map
# libgcc's unwinder linked in, its symbols hidden (walk.c): no dlopen of
# libgcc_s at a fork, no lock of its, nothing for an exec'd child to load
SHIM_LIBS := -ldl -lpthread -static-libgcc -Wl,--exclude-libs,ALL -Wl,-Bstatic -lgcc_eh -Wl,-Bdynamic

ifneq ($(filter $(ARCH),$(STUB_ARCHS)),)
STUB_OBJ := $(B)/asm/$(ARCH).o
else
STUB_OBJ :=
SHIM_CFLAGS += -DSHIM_NO_STUB
$(info vforkshim: no clone stub for $(ARCH): fork() is never rerouted there)
endif

# Two libraries (issue 23): the front, libvforkshim.so, is what users
# preload: the interposers and the decision whether this process can
# gain, importing nothing but the loader's _r_debug. The engine beside it,
# libvforkshim-engine.so, is loaded by the front only where it can help.
# shim/common/ is built into both.
COMMON_SRCS := $(wildcard shim/common/*.c)
FRONT_SRCS := $(wildcard shim/front/*.c)
SRCS := $(wildcard shim/engine/*.c shim/engine/*/*.c)
COMMON_OBJS := $(COMMON_SRCS:shim/%.c=$(B)/shim/%.o)
FRONT_OBJS := $(FRONT_SRCS:shim/%.c=$(B)/shim/%.o)
OBJS := $(SRCS:shim/%.c=$(B)/shim/%.o) $(COMMON_OBJS) $(STUB_OBJ)
LIB := $(B)/libvforkshim.so
ENGINE := $(B)/libvforkshim-engine.so
# The front's own string functions (shim/front/string.c) must not become
# calls to themselves
FRONT_CFLAGS := -fno-builtin -fno-tree-loop-distribute-patterns -I$(B)/shim/front

PROBE := $(B)/vforkshim-probe
all: $(LIB) $(ENGINE) $(PROBE)

# the doctor's probe (scripts/probe.c): its fork is a site by name
$(PROBE): scripts/probe.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -std=gnu11 -Wall -Wextra -rdynamic -o $@ $<

$(ENGINE): $(OBJS) shim/engine/engine.map
	$(CC) $(CFLAGS) $(LDFLAGS) $(SHIM_LDFLAGS) -o $@ $(OBJS) $(SHIM_LIBS)

# The front is useless without the engine beside it: building one builds both.
# It finds dlopen and pthread_sigmask in the objects after it
# (shim/front/next.c): in libc from glibc 2.34, in libdl and libpthread
# before, which it then needs loaded (Debian 11).
libc_has = $(shell printf '%s\nint main(void) { return %s != 0; }\n' '$(1)' '$(2)' | \
	$(CC) -x c - -o /dev/null 2> /dev/null && echo yes)
FRONT_LIBS := $(if $(call libc_has,extern void *dlopen(const char *, int);,dlopen(0, 0)),,-Wl,--no-as-needed -ldl) \
	$(if $(call libc_has,extern int pthread_sigmask(int, const void *, void *);,pthread_sigmask(0, 0, 0)),,-Wl,--no-as-needed -lpthread)
$(LIB): $(FRONT_OBJS) $(COMMON_OBJS) | $(ENGINE)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-z,now -Wl,-z,relro -Wl,-z,noexecstack -Wl,--no-undefined \
		-o $@ $(FRONT_OBJS) $(COMMON_OBJS) $(FRONT_LIBS)

# Each runtime's marker symbols (SHIM_MARKERS in its file), for the
# front, with their GNU hashes (common/dynsym.c: h = h * 33 + c from 5381)
$(B)/shim/front/markers.inc: $(wildcard shim/engine/runtimes/*.c) Makefile
	@mkdir -p $(@D)
	sed -n 's/^SHIM_MARKERS(\(.*\));$$/\1/p' $^ | tr -d ' "' | tr ',' '\n' | \
		awk 'NF { h = 5381; for (i = 1; i <= length($$0); i++) \
			h = (h * 33 + index("$(MARKER_CHARS)", substr($$0, i, 1)) + 47) % 4294967296; \
			printf "{ \"%s\", %uu },\n", $$0, h }' > $@.tmp && mv $@.tmp $@
MARKER_CHARS := 0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz
$(B)/shim/front/decide.o: $(B)/shim/front/markers.inc

$(B)/shim/front/%.o: shim/front/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SHIM_CFLAGS) $(FRONT_CFLAGS) -c -o $@ $<

$(B)/shim/%.o: shim/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SHIM_CFLAGS) -c -o $@ $<

$(B)/asm/%.o: asm/%.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SHIM_CFLAGS) -c -o $@ $<

include tests/tests.mk

$(B)/demo/spawn_cost: scripts/demo/spawn_cost.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -Wno-missing-prototypes -rdynamic -o $@ $<

$(B)/bench/%: scripts/bench/%.c scripts/bench/bench.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O2 -std=gnu11 -Wall -Wextra -o $@ $< -ldl -lpthread -lrt

$(B)/bench/libempty.so: scripts/bench/empty.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $<

# Benchmarks print their figures and the command that reproduces them;
# `make bench` runs them all and writes docs/PERFORMANCE.md, its plots and
# the README's headline (scripts/bench/report.sh, about 12 minutes).
# STRICT_OVERCOMMIT=1 (root) adds the ENOMEM run, which sets
# vm.overcommit_memory=2 while it runs.
BENCH_PROGS := $(B)/bench/spawn_cost $(B)/bench/burst $(B)/bench/enomem $(B)/bench/libempty.so
bench: $(LIB) $(BENCH_PROGS)
	@scripts/bench/report.sh $(if $(STRICT_OVERCOMMIT),--strict-overcommit)
bench-memory: $(LIB) $(BENCH_PROGS)
	@scripts/bench/memory.sh $(or $(COUNT),200) $(GIB)
bench-runtimes: $(LIB)
	@scripts/bench/runtimes.sh $(or $(COUNT),20) $(GIB)
bench-concurrency: $(LIB) $(BENCH_PROGS)
	@scripts/bench/concurrency.sh
bench-overhead: $(LIB) $(BENCH_PROGS)
	@scripts/bench/overhead.sh $(or $(COUNT),200)
bench-enomem: $(LIB) $(BENCH_PROGS)
	@scripts/bench/enomem.sh $(if $(STRICT_OVERCOMMIT),--strict-overcommit)

# Other people's process test suites, without and under the shim
# (sources from Debian's archive, cached in .cache/; see tests/peers/).
check-peers: $(LIB)
	@tests/peers/run.sh $(SUITES_PEERS)

# nodejs.org's own builds of Node (libuv linked in), fetched once with
# npm into a cache outside the clone (scripts/fetch-node, tests/nodes.sh).
check-nodes: test-bins
	@tests/nodes.sh

# A binary Debian package (scripts/make-deb, scripts/debian/), and its
# test: installed, used and purged in clean bookworm and trixie chroots.
deb:
	@scripts/install-deps --deb
	@scripts/make-deb
check-deb: deb
	@tests/deb.sh $(RELEASES)

# The project in every Debian userland from bullseye to sid, each a
# chroot cached outside the clone (scripts/userland, tests/userlands.sh).
check-userlands:
	@tests/userlands.sh $(RELEASES)

demo: $(LIB) $(B)/demo/spawn_cost
	@GIB=$(or $(GIB),2) COUNT=$(or $(COUNT),20) scripts/demo/demo.sh

BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/vforkshim
DATADIR ?= $(PREFIX)/share/vforkshim
MANDIR ?= $(PREFIX)/share/man
# Every file make install writes; make uninstall removes exactly these.
INSTALLED := $(LIBDIR)/libvforkshim.so $(LIBDIR)/libvforkshim-engine.so $(BINDIR)/vforkshim $(LIBEXECDIR)/probe $(LIBEXECDIR)/ps $(LIBEXECDIR)/audit $(DATADIR)/vforkshim.gdb \
	$(DATADIR)/vforkshim.conf.example $(MANDIR)/man1/vforkshim.1 $(MANDIR)/man7/vforkshim.7

install: $(LIB) $(ENGINE) $(PROBE)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/libvforkshim.so
	install -m 0644 $(ENGINE) $(DESTDIR)$(LIBDIR)/libvforkshim-engine.so
	install -m 0755 $(PROBE) $(DESTDIR)$(LIBEXECDIR)/probe
	install -m 0755 scripts/vforkshim-ps $(DESTDIR)$(LIBEXECDIR)/ps
	install -m 0755 scripts/vforkshim-audit $(DESTDIR)$(LIBEXECDIR)/audit
	sed -e 's|^LIB_INSTALLED=$$|LIB_INSTALLED=$(LIBDIR)/libvforkshim.so|' \
		-e 's|^PROBE_INSTALLED=$$|PROBE_INSTALLED=$(LIBEXECDIR)/probe|' \
		-e 's|^PS_INSTALLED=$$|PS_INSTALLED=$(LIBEXECDIR)/ps|' \
		-e 's|^AUDIT_INSTALLED=$$|AUDIT_INSTALLED=$(LIBEXECDIR)/audit|' scripts/vforkshim > $(DESTDIR)$(BINDIR)/vforkshim
	chmod 0755 $(DESTDIR)$(BINDIR)/vforkshim
	install -m 0644 scripts/gdb/vforkshim.gdb $(DESTDIR)$(DATADIR)/vforkshim.gdb
	sed 's|@LIBDIR@|$(LIBDIR)|g' scripts/systemd/vforkshim.conf.example > $(DESTDIR)$(DATADIR)/vforkshim.conf.example
	install -m 0644 docs/vforkshim.1 $(DESTDIR)$(MANDIR)/man1/vforkshim.1
	install -m 0644 docs/vforkshim.7 $(DESTDIR)$(MANDIR)/man7/vforkshim.7

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

# make cross ARCH=<arch>: the library and the test programs with Debian's
# cross compiler, into build/cross-<arch>/ (an architecture with no stub
# builds too, and never reroutes: fallback_arch).
CROSS_CC_i386 := i686-linux-gnu-gcc
CROSS_CC_aarch64 := aarch64-linux-gnu-gcc
CROSS_CC_arm := arm-linux-gnueabihf-gcc
CROSS_CC_riscv64 := riscv64-linux-gnu-gcc
CROSS_CC_ppc64le := powerpc64le-linux-gnu-gcc
CROSS_CC_s390x := s390x-linux-gnu-gcc
CROSS_CC_mips64el := mips64el-linux-gnuabi64-gcc
cross:
	@test -n "$(CROSS_CC_$(ARCH))" || { echo "make cross: no cross compiler known for ARCH=$(ARCH)"; exit 2; }
	$(MAKE) ARCH=$(ARCH) CC=$(CROSS_CC_$(ARCH)) B=build/cross-$(ARCH) build/cross-$(ARCH)/libvforkshim.so \
		build/cross-$(ARCH)/libvforkshim-engine.so \
		$(patsubst $(B)/%,build/cross-$(ARCH)/%,$(PROGS) $(PLUGINS))

# make check-arch [ARCH=<arch>]: each stub on a real kernel in
# qemu-system (tests/arch/run.sh); all of them unless ARCH is given.
check-arch:
	@scripts/install-deps --arch
	@tests/arch/run.sh $(if $(ARCH_GIVEN),$(ARCH))

# make check-arch-runtimes [FORCE=1]: tests/runtimes.sh (Node's cases
# included) and tests/concurrency.sh in a Debian arm64 bookworm userland
# (scripts/userland-arm64, cached outside the clone) booted in
# qemu-system-aarch64 (tests/arch/runtimes.sh); skipped when it passed
# with the same inputs, unless FORCE=1.
check-arch-runtimes:
	@scripts/install-deps --arch-runtimes
	@FORCE=$(FORCE) tests/arch/runtimes.sh

clean:
	rm -rf $(B)

.PHONY: all cross check-arch check-arch-runtimes check-nodes check-peers check-userlands deb check-deb demo bench bench-memory bench-runtimes bench-concurrency bench-overhead \
	bench-enomem install uninstall clean
-include $(OBJS:.o=.d) $(FRONT_OBJS:.o=.d)
