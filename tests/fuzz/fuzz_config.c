/* libFuzzer target: the configuration parsers.
 *
 * The input is split at newlines into the values of the variables, in
 * the order of `names` (missing ones unset). shim_config_load must take
 * anything without crashing, and what it keeps must be a value the
 * variable accepts or its safe default. VFORKSHIM_LOG_FILE is left out:
 * its value is a path the loader opens with O_CREAT (tests/reliability
 * covers it with symlinks, directories, FIFOs and others' files).
 *
 * shim_parse_size, the one parser with arithmetic, is also checked
 * against a reference written differently (strtoull and a table). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/engine/core/core.h"

/* proc.c, not linked: one process, never a copy */
static int one = 1;
int *shim_proc_marker = &one;
pid_t shim_proc_pid;
unsigned shim_proc_gen = 1;
void shim_proc_renew(void) {}

static const char *const names[] = {
	"VFORKSHIM", "VFORKSHIM_FORK", "VFORKSHIM_SPAWN", "VFORKSHIM_MIN_RSS",
	"VFORKSHIM_LOG", "VFORKSHIM_STATS", "VFORKSHIM_SITES",
};
#define NVARS (sizeof names / sizeof *names)
static const char *values[NVARS];

static const char *fake_getenv(const char *name)
{
	for (size_t i = 0; i < NVARS; i++)
		if (!strcmp(name, names[i]))
			return values[i];
	return NULL;
}

/* The reference: [0-9]+ then at most one of kKmMgG, value < 2^64. */
static int ref_size(const char *s, unsigned long long *out)
{
	size_t digits = strspn(s, "0123456789");
	if (digits == 0)
		return -1;
	const char *suffix = s + digits;
	unsigned shift = 0;
	if (*suffix) {
		const char *p = strchr("kKmMgG", *suffix);
		if (!p || suffix[1])
			return -1;
		shift = (unsigned)(p - "kKmMgG") / 2 * 10 + 10;
	}
	char num[64];
	if (digits >= sizeof num) { /* only leading zeros can make it fit */
		size_t z = strspn(s, "0");
		if (digits - z >= sizeof num)
			return -1;
		s += z;
		digits -= z;
		if (digits == 0) {
			*out = 0;
			return 0;
		}
	}
	memcpy(num, s, digits);
	num[digits] = '\0';
	errno = 0;
	unsigned long long v = strtoull(num, NULL, 10);
	if (errno == ERANGE || (shift && v > (~0ULL >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

static void check_size(const char *s)
{
	unsigned long long got = 1, want = 2;
	int r = shim_parse_size(s, &got), w = ref_size(s, &want);
	if (r != w || (r == 0 && got != want)) {
		fprintf(stderr, "shim_parse_size(\"%s\"): %d %llu, reference %d %llu\n", s, r, got, w, want);
		abort();
	}
}

/* The index of v in words, or dflt when v is unset, empty or another
 * string: what each variable must end up as. */
static int word(const char *v, const char *const *words, int dflt)
{
	for (int i = 0; v && words[i]; i++)
		if (!strcmp(v, words[i]))
			return i;
	return dflt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(values, 0, sizeof values);
	char *p = buf;
	for (size_t i = 0; i < NVARS && p; i++) {
		values[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	struct shim_config c;
	shim_config_load(&c, fake_getenv);
	static const char *const onoff[] = { "0", "off", "1", "on", NULL };
	static const char *const forks[] = { "sites", "all", "off", NULL };
	static const char *const logs[] = { "off", "warn", "info", "debug", NULL };
	unsigned long long rss = 0;
	if (!values[3] || ref_size(values[3], &rss))
		rss = 0;
	if (c.enabled != (word(values[0], onoff, 0) >= 2) ||
	    c.fork != (enum shim_fork_mode)word(values[1], forks, FORK_SITES) ||
	    c.spawn != (enum shim_spawn_mode)word(values[2], (const char *const[]){ "auto", "always", "off", NULL }, SPAWN_AUTO) ||
	    c.min_rss != rss ||
	    c.log != (enum shim_log_level)word(values[4], logs, LOG_WARN) ||
	    c.stats != (word(values[5], onoff, 0) >= 2) ||
	    c.sites != (values[6] && *values[6] ? values[6] : NULL)) {
		fprintf(stderr, "shim_config_load kept a value its variable does not accept\n");
		abort();
	}
	for (size_t i = 0; i < NVARS; i++)
		if (values[i])
			check_size(values[i]);
	free(buf);
	return 0;
}
