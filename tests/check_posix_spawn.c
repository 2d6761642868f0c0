/* posix_spawn/posix_spawnp on the engine against libc, same inputs. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"

extern char **environ;
#define OUT 4096

/* Runs report with `what` under both APIs, stdout routed to a pipe
 * first and then the actions `add` appends; both must agree. */
static void compare_report(char *const what[], void (*add)(posix_spawn_file_actions_t *),
			   const posix_spawnattr_t *attr, char *out_shim)
{
	char out[2][OUT];
	int st[2], rc[2];
	char *argv[16] = { "report" };
	for (int i = 0; what[i]; i++)
		argv[i + 1] = what[i];
	for (int i = 0; i < 2; i++) {
		int p[2];
		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		if (add)
			add(&fa);
		pid_t pid;
		rc[i] = apis[i]->posix_spawn(&pid, prog("report"), &fa, attr, argv, environ);
		close(p[1]);
		read_all(p[0], out[i], OUT);
		st[i] = -1;
		if (rc[i] == 0)
			ck_assert_int_eq(waitpid(pid, &st[i], 0), pid);
		posix_spawn_file_actions_destroy(&fa);
	}
	ck_assert_int_eq(rc[0], rc[1]);
	ck_assert_int_eq(st[0], st[1]);
	ck_assert_str_eq(out[0], out[1]);
	if (out_shim)
		strcpy(out_shim, out[1]);
}

/* The child's output and exit status are what libc gives. */
START_TEST(output_and_status)
{
	char *argv[] = { "sh", "-c", "echo out-$0; exit 9", NULL };
	for (int i = 0; i < 2; i++) {
		char out[OUT];
		int st;
		ck_assert_int_eq(spawn_capture(apis[i], false, "/bin/sh", argv, NULL, NULL, out, OUT, &st), 0);
		ck_assert_str_eq(out, "out-sh\n");
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 9);
	}
	ck_assert(no_children());
}
END_TEST

static char tmpdir[64];

static void make_file(const char *name, const char *text, mode_t mode)
{
	char p[128];
	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(p, mode);
}

static void setup_files(void)
{
	strcpy(tmpdir, "/tmp/vforkshim-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	make_file("noexec", "#!/bin/sh\necho x\n", 0644);
	make_file("garbage", "\x01\x02\x03 not a program\n", 0755);
	make_file("script", "echo script-ran\n", 0755);
}

static void teardown_files(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	ck_assert_int_eq(libc_api.system(cmd), 0);
}

/* Exec failures return libc's errno, leave no child and no descriptor. */
START_TEST(exec_failures)
{
	static const char *const names[] = { "missing", "noexec", "garbage", "script" };
	static const int want[] = { ENOENT, EACCES, ENOEXEC, ENOEXEC };
	int fds = count_fds();
	for (int n = 0; n < 4; n++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", tmpdir, names[n]);
		char *argv[] = { path, NULL };
		for (int use_path = 0; use_path < 2; use_path++)
			for (int i = 0; i < 2; i++) {
				pid_t pid = 0;
				int rc = (use_path ? apis[i]->posix_spawnp : apis[i]->posix_spawn)(
					&pid, path, NULL, NULL, argv, environ);
				ck_assert_msg(rc == want[n], "%s %s(%s) = %d, want %d", apis[i]->name,
					      use_path ? "posix_spawnp" : "posix_spawn", names[n], rc, want[n]);
			}
	}
	ck_assert(no_children());
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* posix_spawnp searches PATH as libc does: skips EACCES, reports it last. */
START_TEST(path_search)
{
	char *saved = strdup(getenv("PATH"));
	char path[256];
	char *argv[] = { "x", NULL };
	snprintf(path, sizeof path, "%s:/usr/bin:/bin", tmpdir);
	setenv("PATH", path, 1);
	for (int i = 0; i < 2; i++) {
		char out[OUT];
		int st;
		/* "noexec" in tmpdir is not executable: EACCES at the end */
		ck_assert_int_eq(spawn_capture(apis[i], true, "noexec", argv, NULL, NULL, out, OUT, &st), EACCES);
		ck_assert_int_eq(spawn_capture(apis[i], true, "no-such-program-here", argv, NULL, NULL, out, OUT, &st), ENOENT);
		ck_assert_int_eq(spawn_capture(apis[i], true, "", argv, NULL, NULL, out, OUT, &st), ENOENT);
		char *echo[] = { "echo", "found", NULL };
		ck_assert_int_eq(spawn_capture(apis[i], true, "echo", echo, NULL, NULL, out, OUT, &st), 0);
		ck_assert_str_eq(out, "found\n");
	}
	unsetenv("PATH");
	for (int i = 0; i < 2; i++) { /* the default search path */
		char out[OUT];
		int st;
		char *echo[] = { "echo", "default", NULL };
		ck_assert_int_eq(spawn_capture(apis[i], true, "echo", echo, NULL, NULL, out, OUT, &st), 0);
		ck_assert_str_eq(out, "default\n");
	}
	setenv("PATH", saved, 1);
	free(saved);
}
END_TEST

static void fa_open_close(posix_spawn_file_actions_t *fa)
{
	char p[128];
	snprintf(p, sizeof p, "%s/opened", tmpdir);
	posix_spawn_file_actions_addopen(fa, 7, p, O_WRONLY | O_CREAT, 0600);
	posix_spawn_file_actions_addclose(fa, 0);
	posix_spawn_file_actions_addclose(fa, 40); /* not open: ignored */
}

static int cloexec_fd = -1, dir_fd = -1;

static void fa_dup2_same(posix_spawn_file_actions_t *fa)
{
	posix_spawn_file_actions_adddup2(fa, cloexec_fd, cloexec_fd);
	posix_spawn_file_actions_adddup2(fa, cloexec_fd, 9);
}

static void fa_chdir(posix_spawn_file_actions_t *fa)
{
	posix_spawn_file_actions_addchdir_np(fa, "/usr");
}

static void fa_fchdir(posix_spawn_file_actions_t *fa)
{
	posix_spawn_file_actions_addfchdir_np(fa, dir_fd);
}

/* glibc 2.34 and 2.35 added these: looked up, so that the tests build
 * and run on the older ones, where the engine never meets them. */
typedef int add_fd_fn(posix_spawn_file_actions_t *, int);
static add_fd_fn *lookup_add(const char *name)
{
	return (add_fd_fn *)dlsym(RTLD_DEFAULT, name);
}

static void fa_closefrom(posix_spawn_file_actions_t *fa)
{
	lookup_add("posix_spawn_file_actions_addclosefrom_np")(fa, 3);
}

/* Every file action glibc 2.36 offers does what it does under libc. */
START_TEST(file_actions)
{
	char out[OUT];
	char f[32];
	snprintf(f, sizeof f, "fd:%d", 0);
	compare_report((char *[]){ "fd:7", f, NULL }, fa_open_close, NULL, out);
	ck_assert_msg(strstr(out, "/opened\nclosed\n") != NULL, "got %s", out);

	cloexec_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char c1[32];
	snprintf(c1, sizeof c1, "cloexec:%d", cloexec_fd);
	compare_report((char *[]){ c1, "cloexec:9", NULL }, fa_dup2_same, NULL, out);
	ck_assert_str_eq(out, "0\n0\n");
	close(cloexec_fd);

	compare_report((char *[]){ "cwd", NULL }, fa_chdir, NULL, out);
	ck_assert_str_eq(out, "/usr\n");
	dir_fd = open("/etc", O_RDONLY | O_DIRECTORY);
	compare_report((char *[]){ "cwd", NULL }, fa_fchdir, NULL, out);
	ck_assert_str_eq(out, "/etc\n");
	close(dir_fd);

	int extra = open("/dev/null", O_RDONLY); /* inherited unless closed */
	if (lookup_add("posix_spawn_file_actions_addclosefrom_np")) {
		compare_report((char *[]){ "fds", NULL }, fa_closefrom, NULL, out);
		ck_assert_str_eq(out, "0 1 2 \n");
	}
	close(extra);
}
END_TEST

/* A failing action makes posix_spawn return its errno, as libc does. */
START_TEST(file_action_errors)
{
	char *argv[] = { "true", NULL };
	for (int i = 0; i < 2; i++) {
		pid_t pid;
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 5, "/no/such/dir/file", O_RDONLY, 0);
		ck_assert_int_eq(apis[i]->posix_spawn(&pid, "/bin/true", &fa, NULL, argv, environ), ENOENT);
		posix_spawn_file_actions_destroy(&fa);

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, 900, 5); /* 900 is not open */
		ck_assert_int_eq(apis[i]->posix_spawn(&pid, "/bin/true", &fa, NULL, argv, environ), EBADF);
		posix_spawn_file_actions_destroy(&fa);

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addchdir_np(&fa, "/no/such/dir");
		ck_assert_int_eq(apis[i]->posix_spawn(&pid, "/bin/true", &fa, NULL, argv, environ), ENOENT);
		posix_spawn_file_actions_destroy(&fa);

		add_fd_fn *addtcsetpgrp = lookup_add("posix_spawn_file_actions_addtcsetpgrp_np");
		if (addtcsetpgrp) {
			posix_spawn_file_actions_init(&fa);
			addtcsetpgrp(&fa, 0); /* stdin is no tty here */
			int fd0 = dup(0);
			int devnull = open("/dev/null", O_RDONLY);
			dup2(devnull, 0);
			ck_assert_int_eq(apis[i]->posix_spawn(&pid, "/bin/true", &fa, NULL, argv, environ), ENOTTY);
			dup2(fd0, 0);
			close(fd0);
			close(devnull);
			posix_spawn_file_actions_destroy(&fa);
		}
	}
	ck_assert(no_children());
}
END_TEST

static void handler(int sig) { (void)sig; }

/* Attributes: process group, session, mask, defaults, scheduler, ids. */
START_TEST(attributes)
{
	char out[OUT];
	posix_spawnattr_t attr;
	sigset_t set;

	/* Handled signals reach the child as SIG_DFL, ignored ones stay
	 * ignored unless listed in SETSIGDEF. */
	struct sigaction sa = { .sa_handler = handler }, old_usr2, old_pipe, old_hup;
	sigaction(SIGUSR2, &sa, &old_usr2);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);
	sigaction(SIGHUP, &sa, &old_hup);
	posix_spawnattr_init(&attr);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	posix_spawnattr_setsigdefault(&attr, &set);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	posix_spawnattr_setsigmask(&attr, &set);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_USEVFORK);
	compare_report((char *[]){ "mask", "ign", NULL }, NULL, &attr, out);
	char *ign = strchr(out, '\n') + 1;
	ck_assert(sigbit(out, SIGUSR1) && sigbit(out, SIGTERM) && !sigbit(out, SIGWINCH));
	ck_assert(sigbit(ign, SIGPIPE) && !sigbit(ign, SIGHUP) && !sigbit(ign, SIGUSR2));
	posix_spawnattr_destroy(&attr);
	sigaction(SIGUSR2, &old_usr2, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGHUP, &old_hup, NULL);

	/* Without SETSIGMASK the child gets the caller's mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigset_t old;
	pthread_sigmask(SIG_BLOCK, &set, &old);
	compare_report((char *[]){ "mask", NULL }, NULL, NULL, out);
	ck_assert(sigbit(out, SIGWINCH));
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* The child is the leader of a new group or session. */
	for (int flag = 0; flag < 2; flag++) {
		for (int i = 0; i < 2; i++) {
			char o[OUT];
			int st;
			char *argv[] = { "report", "pgid", "sid", NULL };
			posix_spawnattr_init(&attr);
			posix_spawnattr_setflags(&attr, flag ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP);
			posix_spawnattr_setpgroup(&attr, 0);
			pid_t pid;
			int p[2];
			ck_assert_int_eq(pipe(p), 0);
			posix_spawn_file_actions_t fa;
			posix_spawn_file_actions_init(&fa);
			posix_spawn_file_actions_adddup2(&fa, p[1], 1);
			ck_assert_int_eq(apis[i]->posix_spawn(&pid, prog("report"), &fa, &attr, argv, environ), 0);
			close(p[1]);
			read_all(p[0], o, sizeof o);
			waitpid(pid, &st, 0);
			char want[64];
			snprintf(want, sizeof want, "%d\n%d\n", pid, flag ? pid : getsid(0));
			ck_assert_str_eq(o, want);
			posix_spawn_file_actions_destroy(&fa);
			posix_spawnattr_destroy(&attr);
		}
	}

	/* Scheduler policy (SCHED_FIFO needs privilege: then both fail
	 * alike) and the reset of effective ids. */
	posix_spawnattr_init(&attr);
	struct sched_param sp = { .sched_priority = 1 };
	posix_spawnattr_setschedpolicy(&attr, SCHED_FIFO);
	posix_spawnattr_setschedparam(&attr, &sp);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSCHEDULER | POSIX_SPAWN_SETSCHEDPARAM |
					POSIX_SPAWN_RESETIDS);
	compare_report((char *[]){ "sched", "euid", NULL }, NULL, &attr, out);
	char want[64];
	snprintf(want, sizeof want, "%d\n%d %d\n", SCHED_FIFO, (int)getuid(), (int)getgid());
	if (geteuid() == 0)
		ck_assert_str_eq(out, want);
	posix_spawnattr_destroy(&attr);

	/* An impossible priority fails the spawn with libc's errno. */
	posix_spawnattr_init(&attr);
	sp.sched_priority = 99;
	posix_spawnattr_setschedparam(&attr, &sp);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSCHEDPARAM);
	char *argv[] = { "true", NULL };
	pid_t pid;
	int rc0 = libc_api.posix_spawn(&pid, "/bin/true", NULL, &attr, argv, environ);
	int rc1 = shim_api.posix_spawn(&pid, "/bin/true", NULL, &attr, argv, environ);
	ck_assert_int_eq(rc0, EINVAL);
	ck_assert_int_eq(rc1, rc0);
	posix_spawnattr_destroy(&attr);
	ck_assert(no_children());
}
END_TEST

/* The caller's signal mask and errno are as they were after a spawn. */
START_TEST(caller_state_preserved)
{
	sigset_t set, before, after;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &before);
	sigemptyset(&before);
	sigemptyset(&after);
	pthread_sigmask(SIG_BLOCK, NULL, &before);
	char *argv[] = { "true", NULL };
	pid_t pid;
	errno = 1234;
	int rc = shim_api.posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
	int e = errno;
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_int_eq(e, 1234);
	for (int sig = 1; sig < _NSIG; sig++)
		ck_assert_int_eq(sigismember(&before, sig), sigismember(&after, sig));
	ck_assert(sigismember(&after, SIGUSR1));
}
END_TEST

static void *spawner(void *arg)
{
	(void)arg;
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	for (int i = 0; i < 40; i++) {
		pid_t pid;
		int st;
		if (shim_api.posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0 ||
		    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 3)
			return (void *)1;
		if (shim_api.system("exit 4") != 4 << 8)
			return (void *)2;
		FILE *f = shim_api.popen("echo t", "r");
		char line[16] = "";
		if (!f || !fgets(line, sizeof line, f) || strcmp(line, "t\n") || pclose(f) != 0)
			return (void *)3;
	}
	return NULL;
}

/* 8 threads spawning at once: every result right, nothing left over. */
START_TEST(threads)
{
	int fds = count_fds();
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, spawner, NULL);
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		ck_assert_ptr_null(r);
	}
	ck_assert_int_eq(count_fds(), fds);
	ck_assert(no_children());
}
END_TEST

Suite *posix_spawn_suite(void)
{
	Suite *s = suite_create("posix_spawn");
	TCase *tc = tcase_create("engine");
	tcase_add_checked_fixture(tc, setup_files, teardown_files);
	tcase_add_test(tc, output_and_status);
	tcase_add_test(tc, exec_failures);
	tcase_add_test(tc, path_search);
	tcase_add_test(tc, file_actions);
	tcase_add_test(tc, file_action_errors);
	tcase_add_test(tc, attributes);
	tcase_add_test(tc, caller_state_preserved);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);
	return s;
}
