/* popen/pclose on the engine against libc's. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"

static void read_stream(FILE *f, char *buf, size_t cap)
{
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
}

/* "r": the command's output; pclose gives the wait status. */
START_TEST(read_mode)
{
	for (int i = 0; i < 2; i++) {
		FILE *f = apis[i]->popen("echo one; echo two; exit 4", "r");
		ck_assert_ptr_nonnull(f);
		char buf[64];
		read_stream(f, buf, sizeof buf);
		ck_assert_str_eq(buf, "one\ntwo\n");
		ck_assert_int_eq(apis[i]->pclose(f), 4 << 8);
	}
	ck_assert(no_children());
}
END_TEST

/* "w": what we write is the command's input. */
START_TEST(write_mode)
{
	for (int i = 0; i < 2; i++) {
		char path[] = "/tmp/vforkshim-popen-XXXXXX", cmd[128], buf[64];
		int fd = mkstemp(path);
		snprintf(cmd, sizeof cmd, "tr a-z A-Z > %s", path);
		FILE *f = apis[i]->popen(cmd, "w");
		ck_assert_ptr_nonnull(f);
		fputs("hello\n", f);
		ck_assert_int_eq(apis[i]->pclose(f), 0);
		read_all(fd, buf, sizeof buf);
		unlink(path);
		ck_assert_str_eq(buf, "HELLO\n");
	}
}
END_TEST

/* "e" makes the caller's end close-on-exec; without it, it is not. */
START_TEST(cloexec_modes)
{
	static const char *const modes[] = { "r", "re", "w", "we", "er" };
	static const int want[] = { 0, 1, 0, 1, 1 };
	for (int m = 0; m < 5; m++)
		for (int i = 0; i < 2; i++) {
			FILE *f = apis[i]->popen("cat >/dev/null", modes[m]);
			ck_assert_ptr_nonnull(f);
			int fl = fcntl(fileno(f), F_GETFD);
			ck_assert_int_eq(!!(fl & FD_CLOEXEC), want[m]);
			ck_assert_int_eq(apis[i]->pclose(f), 0);
		}
}
END_TEST

/* Bad modes fail with EINVAL and spawn nothing (the shim's popen is
 * called directly: these calls are not spawns and are not counted). */
START_TEST(bad_modes)
{
	static const char *const modes[] = { "", "rw", "x", "r+", "wr", "e" };
	for (int m = 0; m < 6; m++) {
		errno = 0;
		ck_assert_ptr_null(libc_api.popen("true", modes[m]));
		ck_assert_int_eq(errno, EINVAL);
		errno = 0;
		ck_assert_ptr_null(popen("true", modes[m]));
		ck_assert_int_eq(errno, EINVAL);
	}
	ck_assert(no_children());
}
END_TEST

/* POSIX: a child of popen has the streams of earlier popens closed. */
START_TEST(earlier_streams_closed)
{
	char out[2][256], cmd[256];
	snprintf(cmd, sizeof cmd, "exec %s fds", prog("report"));
	for (int i = 0; i < 2; i++) {
		FILE *a = apis[i]->popen("cat >/dev/null", "w");
		FILE *b = apis[i]->popen("cat", "r");
		FILE *c = apis[i]->popen(cmd, "r");
		read_stream(c, out[i], sizeof out[i]);
		char fa[16], fb[16];
		snprintf(fa, sizeof fa, " %d ", fileno(a));
		snprintf(fb, sizeof fb, " %d ", fileno(b));
		ck_assert_msg(!strstr(out[i], fa) && !strstr(out[i], fb), "%s saw %s", apis[i]->name, out[i]);
		ck_assert_int_eq(apis[i]->pclose(c), 0);
		ck_assert_int_eq(apis[i]->pclose(b), 0);
		ck_assert_int_eq(apis[i]->pclose(a), 0);
	}
	ck_assert_str_eq(out[0], out[1]);
	ck_assert(no_children());
}
END_TEST

/* A stream popen did not create goes to libc's pclose. */
START_TEST(foreign_stream)
{
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen("/dev/null", "r");
		ck_assert_int_eq(apis[i]->pclose(f), 0);
	}
}
END_TEST

/* A child that is gone before we write: pclose reports its status and
 * the failed flush as libc does. */
START_TEST(early_exit_writer)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);
	int st[2];
	for (int i = 0; i < 2; i++) {
		FILE *f = apis[i]->popen("exit 0", "w");
		usleep(100 * 1000);
		fputs("data nobody reads\n", f);
		st[i] = apis[i]->pclose(f);
	}
	sigaction(SIGPIPE, &old, NULL);
	ck_assert_int_eq(st[0], st[1]);
}
END_TEST

Suite *popen_suite(void)
{
	Suite *s = suite_create("popen");
	TCase *tc = tcase_create("engine");
	tcase_add_test(tc, read_mode);
	tcase_add_test(tc, write_mode);
	tcase_add_test(tc, cloexec_modes);
	tcase_add_test(tc, bad_modes);
	tcase_add_test(tc, earlier_streams_closed);
	tcase_add_test(tc, foreign_stream);
	tcase_add_test(tc, early_exit_writer);
	suite_add_tcase(s, tc);
	return s;
}
