/* What a spawned child sees, one line per argument:
 *   mask ign   SigBlk / SigIgn of /proc/self/status (hex)
 *   pnd        ShdPnd: the signals pending for the process (hex)
 *   cwd pgid sid euid sched   as named
 *   fds        open descriptors, space separated
 *   env:NAME   the variable's value or (unset)
 *   fd:N       the target of descriptor N, or "closed"
 *   cloexec:N  1 when descriptor N is close-on-exec
 * Used by the tests to compare the shim with libc. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void status_field(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			char *v = line + n + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			printf("%s", v);
		}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "mask")) {
			status_field("SigBlk");
		} else if (!strcmp(a, "ign")) {
			status_field("SigIgn");
		} else if (!strcmp(a, "pnd")) {
			status_field("ShdPnd");
		} else if (!strcmp(a, "cwd")) {
			char buf[PATH_MAX];
			printf("%s\n", getcwd(buf, sizeof buf) ? buf : "?");
		} else if (!strcmp(a, "pgid")) {
			printf("%d\n", (int)getpgid(0));
		} else if (!strcmp(a, "sid")) {
			printf("%d\n", (int)getsid(0));
		} else if (!strcmp(a, "euid")) {
			printf("%d %d\n", (int)geteuid(), (int)getegid());
		} else if (!strcmp(a, "sched")) {
			printf("%d\n", sched_getscheduler(0));
		} else if (!strcmp(a, "fds")) {
			DIR *d = opendir("/proc/self/fd");
			int self = d ? dirfd(d) : -1;
			struct dirent *e;
			while (d && (e = readdir(d)))
				if (e->d_name[0] != '.' && atoi(e->d_name) != self)
					printf("%s ", e->d_name);
			printf("\n");
			if (d)
				closedir(d);
		} else if (!strncmp(a, "env:", 4)) {
			const char *v = getenv(a + 4);
			printf("%s\n", v ? v : "(unset)");
		} else if (!strncmp(a, "fd:", 3)) {
			char p[64], t[PATH_MAX];
			snprintf(p, sizeof p, "/proc/self/fd/%s", a + 3);
			ssize_t n = readlink(p, t, sizeof t - 1);
			t[n > 0 ? n : 0] = '\0';
			printf("%s\n", n > 0 ? t : "closed");
		} else if (!strncmp(a, "cloexec:", 8)) {
			int fl = fcntl(atoi(a + 8), F_GETFD);
			printf("%d\n", fl < 0 ? -1 : !!(fl & FD_CLOEXEC));
		} else {
			printf("unknown %s\n", a);
		}
	}
	return 0;
}
