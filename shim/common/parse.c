/* The configuration's values (parse.h). */
#include <string.h>

#include "parse.h"

static bool is(const char *s, const char *word)
{
	return strcmp(s, word) == 0;
}

int shim_parse_bool_enable(const char *s, bool *out)
{
	if (is(s, "1") || is(s, "on"))
		*out = true;
	else if (is(s, "0") || is(s, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

int shim_parse_fork_mode(const char *s, enum shim_fork_mode *out)
{
	if (is(s, "sites"))
		*out = FORK_SITES;
	else if (is(s, "all"))
		*out = FORK_ALL;
	else if (is(s, "off"))
		*out = FORK_OFF;
	else
		return -1;
	return 0;
}

int shim_parse_spawn_mode(const char *s, enum shim_spawn_mode *out)
{
	if (is(s, "auto"))
		*out = SPAWN_AUTO;
	else if (is(s, "always"))
		*out = SPAWN_ALWAYS;
	else if (is(s, "off"))
		*out = SPAWN_OFF;
	else
		return -1;
	return 0;
}

int shim_parse_log_level(const char *s, enum shim_log_level *out)
{
	static const char *const names[] = { "off", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (is(s, names[i])) {
			*out = (enum shim_log_level)i;
			return 0;
		}
	return -1;
}

/* Decimal digits with an optional k, M or G (either case, powers of
 * 1024); nothing else, and no overflow. */
int shim_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (~0ULL - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	unsigned shift = 0;
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	default: return -1;
	}
	if (*p != '\0' || (shift && v > (~0ULL >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

