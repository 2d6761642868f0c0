# Tests: included by the top Makefile.
T := $(B)/tests
# Recursive (=) so that pkg-config is asked after `deps` has run.
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)
TEST_CFLAGS := -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -MD -MP
SUITES := tests/check_main.c tests/check_util.c tests/check_posix_spawn.c \
	tests/check_system.c tests/check_popen.c
PROGS := $(patsubst tests/progs/%.c,$(T)/progs/%,$(wildcard tests/progs/*.c))
# the register harness is x86_64 assembly
ifneq ($(ARCH),x86_64)
PROGS := $(filter-out $(T)/progs/fork_regs,$(PROGS))
endif

deps:
	@scripts/install-deps

$(T)/check_preloaded: $(SUITES) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) $(CHECK_CFLAGS) -o $@ $(SUITES) $(CHECK_LIBS) -ldl -lpthread

$(T)/check_linked: $(SUITES) tests/check_config.c $(OBJS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) $(CHECK_CFLAGS) -DLINKED -o $@ \
		$(SUITES) tests/check_config.c $(OBJS) $(CHECK_LIBS) -ldl -lpthread

$(T)/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< -lpthread

test-bins: $(LIB) $(T)/check_preloaded $(T)/check_linked $(PROGS)

check: test-bins
	@tests/run-check.sh

.PHONY: deps test-bins check
-include $(T)/*.d $(T)/progs/*.d

# The register harness: C driver plus its assembly, x86_64 only.
$(T)/progs/fork_regs: tests/progs/fork_regs.c tests/progs/fork_regs_x86_64.S
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $^
# -O2 whatever CFLAGS say: the inlined child must share main's frame.
$(T)/progs/fork_inline: tests/progs/fork_inline.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -O2 -o $@ $<
