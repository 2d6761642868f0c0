/* system() on the engine against libc's. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"

/* Status values, system(NULL) and a missing command, as libc gives them. */
START_TEST(status_values)
{
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(apis[i]->system("exit 7"), 7 << 8);
		ck_assert_int_eq(apis[i]->system(NULL), 1);
		ck_assert_int_eq(apis[i]->system("no-such-command-vforkshim 2>/dev/null"), 127 << 8);
		int st = apis[i]->system("kill -TERM $$");
		ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	}
	ck_assert(no_children());
}
END_TEST

/* Output reaches the caller's stdout, in order with the caller's. */
START_TEST(output)
{
	char path[] = "/tmp/vforkshim-sys-XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(1);
	dup2(fd, 1);
	for (int i = 0; i < 2; i++)
		apis[i]->system("echo from-$0");
	dup2(saved, 1);
	close(saved);
	char buf[256];
	lseek(fd, 0, SEEK_SET);
	read_all(fd, buf, sizeof buf);
	unlink(path);
	ck_assert_str_eq(buf, "from-sh\nfrom-sh\n");
}
END_TEST

static volatile sig_atomic_t chld_seen, intr_seen;
static void on_chld(int s) { (void)s; chld_seen++; }
static void on_intr(int s) { (void)s; intr_seen++; }

/* SIGINT/SIGQUIT ignored while it waits, SIGCHLD held back until it
 * returns, the old dispositions and mask back afterwards. */
START_TEST(caller_signals)
{
	struct sigaction sa = { .sa_handler = on_chld }, old_chld, old_int, now;
	sigaction(SIGCHLD, &sa, &old_chld);
	sa.sa_handler = on_intr;
	sigaction(SIGINT, &sa, &old_int);
	for (int i = 0; i < 2; i++) {
		chld_seen = intr_seen = 0;
		/* the shell's parent is the caller: SIGINT and SIGQUIT sent
		 * to it while it waits are ignored */
		ck_assert_int_eq(apis[i]->system("kill -INT $PPID; kill -QUIT $PPID; exit 0"), 0);
		ck_assert_int_eq(intr_seen, 0);
		ck_assert_int_eq(chld_seen, 1); /* delivered once, after the wait */
		sigaction(SIGINT, NULL, &now);
		ck_assert_ptr_eq(now.sa_handler, on_intr);
		sigset_t mask;
		pthread_sigmask(SIG_BLOCK, NULL, &mask);
		ck_assert(!sigismember(&mask, SIGCHLD));
	}
	sigaction(SIGCHLD, &old_chld, NULL);
	sigaction(SIGINT, &old_int, NULL);
}
END_TEST

/* The shell starts with the caller's mask, SIGINT back to default, and
 * ignored signals still ignored. */
START_TEST(child_signals)
{
	char out[2][512];
	struct sigaction sa = { .sa_handler = on_intr }, old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &sa, &old_term);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (int i = 0; i < 2; i++) {
		char cmd[512], path[] = "/tmp/vforkshim-sig-XXXXXX";
		int fd = mkstemp(path);
		snprintf(cmd, sizeof cmd, "exec %s mask ign > %s", prog("report"), path);
		ck_assert_int_eq(apis[i]->system(cmd), 0);
		read_all(fd, out[i], sizeof out[i]);
		unlink(path);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	ck_assert_str_eq(out[0], out[1]);
	char *ign = strchr(out[1], '\n') + 1;
	ck_assert(sigbit(out[1], SIGUSR1) && !sigbit(out[1], SIGCHLD));
	ck_assert(sigbit(ign, SIGTERM) && !sigbit(ign, SIGINT));
}
END_TEST

static void *sys_thread(void *arg)
{
	long n = (long)arg;
	char cmd[32];
	snprintf(cmd, sizeof cmd, "exit %ld", n);
	for (int i = 0; i < 25; i++)
		if (shim_api.system(cmd) != n << 8)
			return (void *)1;
	return NULL;
}

/* Several threads at once: right statuses, dispositions restored. */
START_TEST(threads)
{
	struct sigaction sa = { .sa_handler = on_intr }, old_int, now;
	sigaction(SIGINT, &sa, &old_int);
	pthread_t t[6];
	for (long i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, sys_thread, (void *)(i + 1));
	for (int i = 0; i < 6; i++) {
		void *r;
		pthread_join(t[i], &r);
		ck_assert_ptr_null(r);
	}
	sigaction(SIGINT, NULL, &now);
	ck_assert_ptr_eq(now.sa_handler, on_intr);
	sigaction(SIGINT, &old_int, NULL);
	ck_assert(no_children());
}
END_TEST

static void *cancel_me(void *arg)
{
	(void)arg;
	shim_api.system("sleep 30");
	return NULL;
}

/* A thread cancelled inside system() kills and reaps its shell. */
START_TEST(cancellation)
{
	struct sigaction before, now;
	sigaction(SIGINT, NULL, &before);
	pthread_t t;
	pthread_create(&t, NULL, cancel_me, NULL);
	usleep(200 * 1000);
	pthread_cancel(t);
	void *r;
	pthread_join(t, &r);
	ck_assert_ptr_eq(r, PTHREAD_CANCELED);
	ck_assert(no_children());
	sigaction(SIGINT, NULL, &now);
	ck_assert_ptr_eq(now.sa_handler, before.sa_handler);
}
END_TEST

Suite *system_suite(void)
{
	Suite *s = suite_create("system");
	TCase *tc = tcase_create("engine");
	tcase_add_test(tc, status_values);
	tcase_add_test(tc, output);
	tcase_add_test(tc, caller_signals);
	tcase_add_test(tc, child_signals);
	tcase_add_test(tc, threads);
	tcase_add_test(tc, cancellation);
	suite_add_tcase(s, tc);
	return s;
}
