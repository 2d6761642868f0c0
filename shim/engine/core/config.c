/* Configuration: every VFORKSHIM* variable, read once into `cfg`.
 *
 * A bad value never stops the host program: it gets one warning line
 * naming the variable and what it accepts, and the safe default (one
 * exception, a VFORKSHIM_LOG_FILE this process may not use while an
 * ancestor runs as another user: silence, see log_file_not_for_us). An
 * empty value counts as unset (systemd's `Environment=VAR=` clears). In
 * secure mode (AT_SECURE: set-uid, capabilities) nothing is read at
 * all and the shim stays inert. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "../common/parse.h"


/* glibc's posix_spawn has used clone(CLONE_VM|CLONE_VFORK) since 2.24
 * (the Linux spawni.c rewrite); system and popen have gone through
 * posix_spawn since 2.29 (sysdeps/posix/system.c, libio/iopopen.c).
 * Before that they forked. Other libcs (musl) never copy. */
void shim_spawn_auto_for(const char *libc_version, bool *posix_spawn_copies,
			 bool *system_popen_copies)
{
	*posix_spawn_copies = *system_popen_copies = false;
	if (!libc_version || strncmp(libc_version, "glibc ", 6) != 0)
		return;
	char *end;
	long major = strtol(libc_version + 6, &end, 10);
	if (*end != '.')
		return;
	long minor = strtol(end + 1, NULL, 10);
	if (major != 2)
		return;
	*posix_spawn_copies = minor < 24;
	*system_popen_copies = minor < 29;
}

static void bad(const char *var, const char *val, const char *accepts,
		const char *using)
{
	shim_log(LOG_WARN, "%s=%s is not valid (accepted: %s); using %s",
		 var, val, accepts, using);
}

static const char *value(const char *(*getenv_fn)(const char *), const char *name)
{
	const char *v = getenv_fn(name);
	return v && *v ? v : NULL;
}

/* The effective uid and the parent of process `pid`, from the "Uid:"
 * (its second field) and "PPid:" lines of /proc/PID/status; false when
 * they cannot be read. */
static bool proc_status(int pid, long *euid, int *ppid)
{
	char path[32], buf[2048];
	shim_format(path, sizeof path, "/proc/%d/status", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t len = 0;
	ssize_t n;
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	const char *u = strstr(buf, "\nUid:"), *pp = strstr(buf, "\nPPid:");
	if (!u || !pp)
		return false;
	char *real_end, *eff_end;
	strtoul(u + 5, &real_end, 10);
	unsigned long e = strtoul(real_end, &eff_end, 10);
	if (real_end == u + 5 || eff_end == real_end)
		return false;
	*euid = (long)e;
	*ppid = (int)strtol(pp + 6, NULL, 10);
	return true;
}

/* Does one of our ancestors, below process 1, run with another effective
 * uid? Not process 1 itself: a service of its own user started by
 * systemd is not a child of another user's program. */
static bool ancestor_of_another_user(void)
{
	int pid = (int)getppid();
	long euid;
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		if (!proc_status(pid, &euid, &pid))
			return false;
		if ((uid_t)euid != geteuid())
			return true;
	}
	return false;
}

/* VFORKSHIM_LOG_FILE could not be used (shim_open_log_file failed with
 * `err`): should this process stay silent rather than warn?
 *
 * A process that cannot use the file because of permissions (open fails
 * with EACCES or EPERM, or the file is a regular file of another user,
 * which shim_open_log_file refuses with EPERM) AND that has an ancestor
 * (process 1 aside) running with another effective uid stays silent: no
 * warning, no log line, no stats line, nothing on stderr. The file was
 * chosen for a process of another user, up the tree, which changed
 * credentials for its children (Ruby's uid:, Python's user=, su-like
 * wrappers), and every process below inherits the variable: the shell
 * such a child runs, and what that shell runs. Their stderr is the
 * program's. Otherwise (a missing directory, a symlink, a FIFO, a file
 * of another user while every ancestor runs as our user, a service that
 * systemd started as its user) it is a misconfiguration of this
 * process: one warning, then stderr. The ancestors are read only here,
 * on this failure path; one that cannot be read ends the walk (warn). */
static bool log_file_not_for_us(const char *path, int err)
{
	struct stat st;
	/* EPERM also comes from shim_open_log_file for a file that is not
	 * regular (a FIFO with a reader, a device): not a permission */
	if (err != EACCES && (err != EPERM || (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))))
		return false;
	return ancestor_of_another_user();
}

void shim_config_load(struct shim_config *c, const char *(*getenv_fn)(const char *))
{
	*c = (struct shim_config){ .log = LOG_WARN,
				   .fork = FORK_SITES, .spawn = SPAWN_AUTO };
	if (getauxval(AT_SECURE))
		return;
	const char *v;

	/* The log destination first, so later warnings reach it (a bad
	 * VFORKSHIM_LOG's too: it is told once the destination is known,
	 * and not at all in a silent process). */
	const char *bad_level = NULL;
	if ((v = value(getenv_fn, "VFORKSHIM_LOG")) && shim_parse_log_level(v, &c->log))
		bad_level = v;
	if ((v = value(getenv_fn, "VFORKSHIM_LOG_FILE"))) {
		int fd = shim_open_log_file(v);
		int err = errno;
		if (fd >= 0) {
			close(fd);
			c->log_file = v;
		} else if (log_file_not_for_us(v, err))
			c->log_silent = true; /* before any warning below */
		else
			shim_log(LOG_WARN, "VFORKSHIM_LOG_FILE=%s cannot be used (%s; accepted: a regular file of this user, not a symlink); logging to stderr",
				 v, strerror(err));
	}

	/* shim_log reads `cfg`; while loading into another struct (the
	 * unit tests) keep the level and destination in step. */
	struct shim_config saved = cfg;
	if (c != &cfg) {
		cfg.log = c->log;
		cfg.log_file = c->log_file;
		cfg.log_silent = c->log_silent;
	}
	if (bad_level)
		bad("VFORKSHIM_LOG", bad_level, "off, warn, info, debug", "warn");

	if ((v = value(getenv_fn, "VFORKSHIM")) && shim_parse_bool_enable(v, &c->enabled))
		bad("VFORKSHIM", v, "1, on, 0, off", "off (inert)");
	if ((v = value(getenv_fn, "VFORKSHIM_FORK")) && shim_parse_fork_mode(v, &c->fork))
		bad("VFORKSHIM_FORK", v, "sites, all, off", "sites");
	if ((v = value(getenv_fn, "VFORKSHIM_SPAWN")) && shim_parse_spawn_mode(v, &c->spawn))
		bad("VFORKSHIM_SPAWN", v, "auto, always, off", "auto");
	if ((v = value(getenv_fn, "VFORKSHIM_MIN_RSS")) && shim_parse_size(v, &c->min_rss)) {
		c->min_rss = 0;
		bad("VFORKSHIM_MIN_RSS", v, "a size in bytes with optional k, M or G", "0");
	}
	if ((v = value(getenv_fn, "VFORKSHIM_STATS")) && shim_parse_bool_enable(v, &c->stats))
		bad("VFORKSHIM_STATS", v, "1, on, 0, off", "off");
	c->sites = value(getenv_fn, "VFORKSHIM_SITES");
	if ((v = value(getenv_fn, "VFORKSHIM_AUDIT"))) {
		/* a directory of this user's, where each process writes its
		 * report at exit (audit.c) */
		struct stat st;
		if (stat(v, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && access(v, W_OK) == 0)
			c->audit_dir = v;
		else
			bad("VFORKSHIM_AUDIT", v, "a writable directory of this user", "off (no audit)");
	}

	char libc[64];
	size_t n = confstr(_CS_GNU_LIBC_VERSION, libc, sizeof libc);
	shim_spawn_auto_for(n > 0 && n <= sizeof libc ? libc : NULL,
			    &c->engine_for_posix_spawn, &c->engine_for_system_popen);
	if (c != &cfg)
		cfg = saved;
}
