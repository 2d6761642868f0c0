/* Configuration parsing: every variable, every kind of bad value.
 * Linked runner only: it calls the shim's internal parsers. */
#include <fcntl.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "../shim/engine/core/core.h"
#include "../shim/engine/fork/fork.h"

/* VFORKSHIM and VFORKSHIM_STATS take 1/on/0/off and nothing else. */
START_TEST(enable_values)
{
	bool b = false;
	ck_assert_int_eq(shim_parse_bool_enable("1", &b), 0); ck_assert(b);
	ck_assert_int_eq(shim_parse_bool_enable("on", &b), 0); ck_assert(b);
	ck_assert_int_eq(shim_parse_bool_enable("0", &b), 0); ck_assert(!b);
	ck_assert_int_eq(shim_parse_bool_enable("off", &b), 0); ck_assert(!b);
	static const char *const bad[] = { "yes", "ON", "2", "1 ", " 1", "true", "o", "\xff" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_int_eq(shim_parse_bool_enable(bad[i], &b), -1);
}
END_TEST

/* VFORKSHIM_FORK, VFORKSHIM_SPAWN and VFORKSHIM_LOG: their words only. */
START_TEST(mode_words)
{
	enum shim_fork_mode f;
	enum shim_spawn_mode s;
	enum shim_log_level l;
	ck_assert(!shim_parse_fork_mode("sites", &f) && f == FORK_SITES);
	ck_assert(!shim_parse_fork_mode("all", &f) && f == FORK_ALL);
	ck_assert(!shim_parse_fork_mode("off", &f) && f == FORK_OFF);
	ck_assert_int_eq(shim_parse_fork_mode("banana", &f), -1);
	ck_assert_int_eq(shim_parse_fork_mode("ALL", &f), -1);
	ck_assert(!shim_parse_spawn_mode("auto", &s) && s == SPAWN_AUTO);
	ck_assert(!shim_parse_spawn_mode("always", &s) && s == SPAWN_ALWAYS);
	ck_assert(!shim_parse_spawn_mode("off", &s) && s == SPAWN_OFF);
	ck_assert_int_eq(shim_parse_spawn_mode("sometimes", &s), -1);
	static const char *const lv[] = { "off", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		ck_assert(!shim_parse_log_level(lv[i], &l) && (int)l == i);
	ck_assert_int_eq(shim_parse_log_level("verbose", &l), -1);
	ck_assert_int_eq(shim_parse_log_level("warning", &l), -1);
}
END_TEST

/* VFORKSHIM_MIN_RSS: digits with k/M/G, no overflow, nothing else. */
START_TEST(sizes)
{
	unsigned long long v;
	ck_assert(!shim_parse_size("0", &v) && v == 0);
	ck_assert(!shim_parse_size("4096", &v) && v == 4096);
	ck_assert(!shim_parse_size("64k", &v) && v == 64ULL << 10);
	ck_assert(!shim_parse_size("64K", &v) && v == 64ULL << 10);
	ck_assert(!shim_parse_size("512M", &v) && v == 512ULL << 20);
	ck_assert(!shim_parse_size("2G", &v) && v == 2ULL << 30);
	ck_assert(!shim_parse_size("18446744073709551615", &v) && v == ~0ULL);
	static const char *const bad[] = { "12Q", "", "k", "-1", "1.5G", "1GB", "1 G",
					   "18446744073709551616", "17179869184G", "0x10" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(shim_parse_size(bad[i], &v) == -1, "accepted %s", bad[i]);
}
END_TEST

static const char *const *table;
static const char *table_getenv(const char *name)
{
	for (int i = 0; table[i]; i += 2)
		if (!strcmp(table[i], name))
			return table[i + 1];
	return NULL;
}

/* Loading: good values land in the struct; bad ones leave the defaults;
 * empty counts as unset; auto decides from the libc version. */
START_TEST(load)
{
	struct shim_config c;
	static const char *const good[] = {
		"VFORKSHIM", "1", "VFORKSHIM_FORK", "all", "VFORKSHIM_SPAWN", "always",
		"VFORKSHIM_MIN_RSS", "1G", "VFORKSHIM_LOG", "debug", "VFORKSHIM_STATS", "on",
		"VFORKSHIM_SITES", "uv_spawn,libfoo.so:bar", NULL };
	table = good;
	shim_config_load(&c, table_getenv);
	ck_assert(c.enabled && c.fork == FORK_ALL && c.spawn == SPAWN_ALWAYS);
	ck_assert(c.min_rss == 1ULL << 30 && c.log == LOG_DEBUG && c.stats);
	ck_assert_str_eq(c.sites, "uv_spawn,libfoo.so:bar");
	ck_assert_ptr_null(c.log_file);

	static const char *const bad[] = {
		"VFORKSHIM", "yes", "VFORKSHIM_FORK", "banana", "VFORKSHIM_SPAWN", "x",
		"VFORKSHIM_MIN_RSS", "12Q", "VFORKSHIM_LOG", "off", "VFORKSHIM_STATS", "2", NULL };
	table = bad;
	shim_config_load(&c, table_getenv);
	ck_assert(!c.enabled && c.fork == FORK_SITES && c.spawn == SPAWN_AUTO);
	ck_assert(c.min_rss == 0 && !c.stats && c.log == LOG_OFF);

	static const char *const empty[] = { "VFORKSHIM", "", "VFORKSHIM_FORK", "", NULL };
	table = empty;
	shim_config_load(&c, table_getenv);
	ck_assert(!c.enabled && c.fork == FORK_SITES && c.log == LOG_WARN && c.sites == NULL);

	bool ps, sp;
	shim_spawn_auto_for("glibc 2.36", &ps, &sp);  ck_assert(!ps && !sp);
	shim_spawn_auto_for("glibc 2.28", &ps, &sp);  ck_assert(!ps && sp);
	shim_spawn_auto_for("glibc 2.23", &ps, &sp);  ck_assert(ps && sp);
	shim_spawn_auto_for("glibc 2.29", &ps, &sp);  ck_assert(!ps && !sp);
	shim_spawn_auto_for(NULL, &ps, &sp);          ck_assert(!ps && !sp);
	shim_spawn_auto_for("musl 1.2", &ps, &sp);    ck_assert(!ps && !sp);
}
END_TEST

/* The log file: created 0600 and appended to; a symlink, a directory
 * and a file owned by someone else are refused. */
START_TEST(log_file)
{
	char dir[] = "/tmp/vforkshim-log-XXXXXX", p[128], l[128];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p, sizeof p, "%s/log", dir);
	int fd = shim_open_log_file(p);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	fstat(fd, &st);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_APPEND, O_APPEND);
	close(fd);
	snprintf(l, sizeof l, "%s/link", dir);
	ck_assert_int_eq(symlink(p, l), 0);
	ck_assert_int_eq(shim_open_log_file(l), -1);
	ck_assert_int_eq(shim_open_log_file(dir), -1);
	ck_assert_int_eq(shim_open_log_file("/no/such/dir/log"), -1);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(p, 65534, 65534), 0);
		ck_assert_int_eq(shim_open_log_file(p), -1);
	}
	unlink(l);
	unlink(p);
	rmdir(dir);
}
END_TEST

/* The stats line names every counter and reason, in a stable order. */
START_TEST(stats_line)
{
	char line[1024];
	shim_stats_format(line, sizeof line);
	ck_assert(!strncmp(line, "vforkshim: stats pid=", 21));
	static const char *const keys[] = { " fork_rerouted=", " fork_real=", " spawn_engine=",
		" spawn_libc=", " fallback_policy=", " fallback_refused=", " fallback_layout=",
		" fallback_resource=", " fallback_arch=", " fallback_nested=", " fallback_threads=",
		" fallback_busy=", " fallback_signal=", " fallback_unread=", " fallback_atfork=", " fallback_preexec=" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		ck_assert_msg(strstr(line, keys[i]), "missing %s", keys[i]);
	ck_assert_int_eq(line[strlen(line) - 1], '\n');
	/* the live record's names (vforkshim ps): the stats line's keys, in
	 * its order, one counter word each from `counters` on */
	char keys_of_line[1024] = "", *p = strstr(line, " pid=");
	for (p = p ? strchr(p + 1, ' ') : NULL; p && p[1]; p = strchr(p + 1, ' ')) {
		size_t n = strcspn(p + 1, "=");
		if (keys_of_line[0])
			strcat(keys_of_line, " ");
		strncat(keys_of_line, p + 1, n);
	}
	ck_assert_str_eq(shim_live.names, keys_of_line);
	ck_assert_str_eq(shim_live.magic, SHIM_LIVE_MAGIC);
	ck_assert_uint_eq(shim_live.counters, offsetof(struct shim_live, stats.fork_rerouted));
	ck_assert_uint_eq(shim_live.counters + (4 + R_COUNT) * shim_live.word,
			  offsetof(struct shim_live, stats) + sizeof(struct shim_stats));
	char small[16];
	ck_assert_int_le(shim_format(small, sizeof small, "%s-%d-%lu-%x", "abcdefghij", -42, 7UL, 255u), 15);
	shim_format(line, sizeof line, "%s-%d-%lu-%x-%llu", "ab", -42, 7UL, 255u, ~0ULL);
	ck_assert_str_eq(line, "ab--42-7-ff-18446744073709551615");
}
END_TEST

/* VFORKSHIM_SITES: [object:]symbol[/depth], comma separated; a bad
 * entry is skipped, a good one stored whole or not at all. */
START_TEST(site_list)
{
	char long_sym[200], max_sym[128], list[1024];
	memset(long_sym, 's', sizeof long_sym - 1);
	long_sym[sizeof long_sym - 1] = '\0';
	memset(max_sym, 'm', sizeof max_sym - 1);
	max_sym[sizeof max_sym - 1] = '\0';
	snprintf(list, sizeof list,
		 "uv_spawn,,libfoo.so:bar,:x,y:,%s,%s,a:b:c,lib:%s,sym/3,/usr/lib/o.so:f/16,"
		 "bad/0,bad/17,bad/x,bad/,bad/03,a/b/2,/2",
		 long_sym, max_sym, long_sym);
	shim_sites_reset();
	ck_assert_int_eq(shim_sites_parse(list), 6);
	static const struct { const char *object, *symbol; int depth; } want[] = {
		{ "", "uv_spawn", 1 }, { "libfoo.so", "bar", 1 }, { "", NULL, 1 },
		{ "a", "b:c", 1 }, { "", "sym", 3 }, { "/usr/lib/o.so", "f", 16 },
	};
	for (int i = 0; i < 6; i++) {
		const char *o, *sym;
		int depth;
		ck_assert(shim_sites_entry(i, &o, &sym, &depth));
		ck_assert_str_eq(o, want[i].object);
		ck_assert_str_eq(sym, want[i].symbol ? want[i].symbol : max_sym);
		ck_assert_int_eq(depth, want[i].depth);
	}
	const char *o, *sym;
	int depth;
	ck_assert(!shim_sites_entry(6, &o, &sym, &depth));
	/* beyond the table: accepted up to its size, the rest counted out */
	shim_sites_reset();
	char many[64 * 4] = "";
	for (int i = 0; i < 40; i++)
		strcat(many, i ? ",f" : "f");
	ck_assert_int_eq(shim_sites_parse(many), 32);
	shim_sites_reset();
	shim_sites_parse(cfg.sites); /* the runner's own list back */
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, enable_values);
	tcase_add_test(tc, mode_words);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, load);
	tcase_add_test(tc, log_file);
	tcase_add_test(tc, stats_line);
	tcase_add_test(tc, site_list);
	suite_add_tcase(s, tc);
	return s;
}
