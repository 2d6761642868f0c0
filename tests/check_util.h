/* Helpers shared by the Check suites. */
#ifndef VFORKSHIM_CHECK_UTIL_H
#define VFORKSHIM_CHECK_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>

/* The functions under test, two ways: `shim` is whatever the program
 * links to (the shim, preloaded or linked in), `libc` is libc's own
 * definition, looked up in libc.so.6 itself. Calls through `shim` are
 * counted: they must all reach the engine (see run-check.sh). */
struct api {
	const char *name;
	int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			    const posix_spawnattr_t *, char *const[], char *const[]);
	int (*system)(const char *);
	FILE *(*popen)(const char *, const char *);
	int (*pclose)(FILE *);
};
extern struct api shim_api, libc_api;
extern const struct api *const apis[2];
extern unsigned long shim_calls;
void util_init(void);

/* Path of a test program in TEST_PROGS ($(B)/tests/progs, from tests.mk). */
const char *prog(const char *name);
/* Reads a descriptor to EOF into buf (NUL-terminated), closes it. */
void read_all(int fd, char *buf, size_t cap);
/* Runs argv with `api` posix_spawn (stdout to a pipe); returns the
 * spawn result, stores output and wait status. */
int spawn_capture(const struct api *api, bool use_path, const char *file,
		  char *const argv[], posix_spawn_file_actions_t *fa,
		  const posix_spawnattr_t *attr, char *out, size_t cap, int *status);
int count_fds(void);
/* Whether signal `sig` is set in a /proc/self/status hex mask. */
bool sigbit(const char *hexline, int sig);
/* true when this process has no child left, zombie or running */
bool no_children(void);

Suite *config_suite(void);
Suite *posix_spawn_suite(void);
Suite *system_suite(void);
Suite *popen_suite(void);

#endif
