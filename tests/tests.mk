# Tests: included by the top Makefile.
T := $(B)/tests
# Recursive (=) so that pkg-config is asked after `deps` has run.
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)
TEST_CFLAGS := -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -MD -MP -DTEST_PROGS='"$(T)/progs"'
SUITES := tests/check_main.c tests/check_util.c tests/check_posix_spawn.c \
	tests/check_system.c tests/check_popen.c
PROGS := $(patsubst tests/progs/%.c,$(T)/progs/%,$(wildcard tests/progs/*.c)) $(T)/progs/fork_notables
# the register harness is assembly: x86_64 and aarch64
ifeq ($(wildcard tests/progs/fork_regs_$(ARCH).S),)
PROGS := $(filter-out $(T)/progs/fork_regs,$(PROGS))
endif

deps:
	@scripts/install-deps

$(T)/check_preloaded: $(SUITES) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) $(CHECK_CFLAGS) -o $@ $(SUITES) $(CHECK_LIBS) -ldl -lpthread

# the front and the engine linked into the program, the front's own
# string functions aside (they would replace libc's for the whole test)
LINKED_OBJS := $(filter-out %/front/string.o,$(FRONT_OBJS)) $(OBJS)
$(T)/check_linked: $(SUITES) tests/check_config.c $(LINKED_OBJS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) $(CHECK_CFLAGS) -DLINKED -o $@ \
		$(SUITES) tests/check_config.c $(LINKED_OBJS) $(CHECK_LIBS) -ldl -lpthread

# -rdynamic: the tests name the programs' own functions as user sites
$(T)/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -rdynamic -o $@ $< -lpthread -ldl -lrt

# Plugins the concurrency tests load and unload (tests/plugins/): the
# reload pair is one source, built twice with the same code layout.
PLUGINS := $(T)/plugins/libwaiter.so $(T)/plugins/libreload_a.so $(T)/plugins/libreload_b.so \
	$(T)/plugins/libatfork.so $(T)/plugins/libusersite.so $(T)/plugins/libsecond.so
$(T)/plugins/libusersite.so: tests/plugins/usersite.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $<
$(T)/plugins/libsecond.so: tests/plugins/second.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -ldl
$(T)/plugins/libwaiter.so: tests/plugins/waiter.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $<
$(T)/plugins/libatfork.so: tests/plugins/atfork.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -lpthread
$(T)/plugins/libreload_a.so: tests/plugins/reload.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -Wl,-soname,libreload_a.so -o $@ $<
$(T)/plugins/libreload_b.so: tests/plugins/reload.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -DCHILD_EXECS=0 -Wl,-soname,libreload_b.so -o $@ $<

# A libuv of one function in sixteen shapes of its child's code, for the
# reader of that code (shim/engine/code/code_x86_64.c, tests/concurrency.sh).
# the shapes each file holds: 0 to the last its header lists
ifneq ($(wildcard tests/plugins/uv_shapes_$(ARCH).S),)
UV_LAST := $(shell sed -n 's/^ \*   *\([0-9][0-9]*\) .*/\1/p' tests/plugins/uv_shapes_$(ARCH).S | tail -n 1)
UV_SHAPES := $(foreach n,$(shell seq 0 $(UV_LAST)),$(T)/plugins/libuv_shape$(n).so)
PLUGINS += $(UV_SHAPES)
endif
$(T)/plugins/libuv_shape%.so: tests/plugins/uv_shapes_$(ARCH).S
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -DSHAPE=$* -Wl,-z,noexecstack -o $@ $<

REL_PROGS := $(patsubst tests/reliability/%.c,$(T)/reliability/%,$(wildcard tests/reliability/*.c))

$(T)/reliability/%: tests/reliability/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -rdynamic -o $@ $< -lpthread -ldl -lrt

# exports its getenv, so that the preloaded shim's calls reach it
$(T)/reliability/secure_probe: tests/reliability/secure_probe.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -rdynamic -o $@ $<

# libFuzzer targets (tests/fuzz): clang, whatever CC is, and the parsers'
# sources compiled into them (not the library: its interposed exit,
# setenv and exec family have no place in a fuzzer).
FUZZ_CC ?= $(shell scripts/fuzz-cc)
FUZZ_SRCS := shim/common/parse.c shim/engine/core/real.c shim/engine/core/config.c shim/engine/core/log.c shim/engine/fork/site_list.c shim/engine/core/decisions.c
FUZZ := $(B)/fuzz/fuzz_config $(B)/fuzz/fuzz_sites
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) shim/engine/core/core.h shim/engine/fork/fork.h | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -std=gnu11 -Wall -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -Ishim/engine/core -Ishim/common -o $@ $< $(FUZZ_SRCS) -ldl -lpthread

test-bins: $(LIB) $(ENGINE) $(T)/check_preloaded $(T)/check_linked $(PROGS) $(PLUGINS) $(REL_PROGS) $(FUZZ) \
	$(B)/demo/spawn_cost

check: test-bins
	@tests/run-check.sh

# Soak, injected faults, hostile input, security (tests/reliability/);
# a short version of each runs inside make check.
check-reliability: test-bins
	@tests/reliability/run.sh

# The fuzz targets alone, longer: make fuzz FUZZ_SECONDS=3600
FUZZ_SECONDS ?= 600
fuzz: $(FUZZ)
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

.PHONY: deps test-bins check check-reliability fuzz
-include $(T)/*.d $(T)/progs/*.d $(T)/reliability/*.d

# No dlopen in it, and no -ldl: the front must find nothing to gain
$(T)/progs/front_calls: tests/progs/front_calls.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $<

# The register harness: C driver plus its assembly (x86_64, aarch64).
$(T)/progs/fork_regs: tests/progs/fork_regs.c tests/progs/fork_regs_$(ARCH).S
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $^
# -O2 whatever CFLAGS say: the inlined child must share main's frame.
$(T)/progs/fork_inline: tests/progs/fork_inline.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -O2 -o $@ $<
# No unwind tables: fork=all must decline (tests/fork.sh).
$(T)/progs/fork_notables: tests/arch/preload_check.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -fno-asynchronous-unwind-tables -fno-unwind-tables \
		-DARCH_NAME='"no-unwind-tables"' -o $@ $<
