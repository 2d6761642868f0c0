/* The one log function and the stats counters.
 *
 * A child that shares our memory may reach shim_log (a warning from the
 * child guard, say), so nothing here allocates, locks or uses stdio: the
 * line is formatted on the stack and leaves in a single write(2), which
 * also keeps lines from different processes whole in an O_APPEND file. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"
#include "lockfree.h"

/* The counters' names, in struct shim_stats's order: the stats line's
 * keys (tests/check_config.c holds them to shim_reason_name) */
#define LIVE_NAMES "fork_rerouted fork_real spawn_engine spawn_libc fallback_policy fallback_denied " \
	"fallback_nested fallback_arch fallback_rss fallback_refused fallback_shstk fallback_resource " \
	"fallback_layout fallback_unwind fallback_threads fallback_busy fallback_signal fallback_unread " \
	"fallback_atfork fallback_preexec fallback_undecoded fallback_options"

struct shim_live shim_live = {
	.magic = SHIM_LIVE_MAGIC,
	.size = sizeof(struct shim_live),
	.word = sizeof(unsigned long),
	.counters = offsetof(struct shim_live, stats.fork_rerouted),
	.owner_at = offsetof(struct shim_live, stats.owner),
	.enabled = -1,
	.names = LIVE_NAMES,
};

const char *const shim_reason_name[R_COUNT] = {
	[R_POLICY] = "policy", [R_DENIED] = "denied", [R_NESTED] = "nested",
	[R_ARCH] = "arch", [R_RSS] = "rss", [R_REFUSED] = "refused",
	[R_SHSTK] = "shstk", [R_RESOURCE] = "resource", [R_LAYOUT] = "layout",
	[R_UNWIND] = "unwind", [R_THREADS] = "threads", [R_BUSY] = "busy",
	[R_SIGNAL] = "signal", [R_UNREAD] = "unread",
	[R_ATFORK] = "atfork", [R_PREEXEC] = "preexec",
	[R_UNDECODED] = "undecoded", [R_OPTIONS] = "options",
};

struct out { char *buf; size_t cap, len; };

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

/* Strings can come from the environment (a bad value is quoted in its
 * warning): control bytes are written as \xNN, so that a value cannot
 * break the line in two, forge another line or drive a terminal. */
static void put_str(struct out *o, const char *s)
{
	if (!s)
		s = "(null)";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != 0x7f) {
			put(o, (char)c);
			continue;
		}
		put(o, '\\');
		put(o, 'x');
		put(o, "0123456789abcdef"[c >> 4]);
		put(o, "0123456789abcdef"[c & 15]);
	}
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool neg)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
}

static int vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		int longs = 0;
		bool size = false;
		for (fmt++; *fmt == 'l' || *fmt == 'z'; fmt++) {
			if (*fmt == 'l')
				longs++;
			else
				size = true;
		}
		long long sv;
		unsigned long long uv;
		switch (*fmt) {
		case 'd':
			sv = longs >= 2 ? va_arg(ap, long long)
			   : longs == 1 || size ? va_arg(ap, long) : va_arg(ap, int);
			put_num(&o, sv < 0 ? -(unsigned long long)sv : (unsigned long long)sv, 10, sv < 0);
			break;
		case 'u':
		case 'x':
			uv = longs >= 2 ? va_arg(ap, unsigned long long)
			   : longs == 1 || size ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			put_num(&o, uv, *fmt == 'x' ? 16 : 10, false);
			break;
		case 'p':
			put_str(&o, "0x");
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false);
			break;
		case 's':
			put_str(&o, va_arg(ap, const char *));
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown conversion: show it rather than guess */
			put(&o, '%');
			if (*fmt)
				put(&o, *fmt);
			else
				fmt--;
		}
	}
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return (int)(o.len < cap ? o.len : cap ? cap - 1 : 0);
}

int shim_format(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vformat(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

void shim_log(enum shim_log_level level, const char *fmt, ...)
{
	if (level > cfg.log || cfg.log == LOG_OFF)
		return;
	int saved = errno;
	char line[512];
	static const char pre[] = "vforkshim: ";
	memcpy(line, pre, sizeof pre - 1);
	va_list ap;
	va_start(ap, fmt);
	int n = vformat(line + sizeof pre - 1, sizeof line - sizeof pre, fmt, ap);
	va_end(ap);
	size_t len = sizeof pre - 1 + (size_t)n;
	line[len++] = '\n';
	shim_write_log(line, len);
	errno = saved;
}

/* Opened write-only, append, create, close-on-exec, non-blocking and
 * without following a final symlink; a file that is not regular or not
 * ours (a log planted by someone else) is refused. Non-blocking because
 * a FIFO with no reader would otherwise hang the program in open(2);
 * it changes nothing for a regular file. It is opened for each
 * line and closed again: holding a descriptor would take a number the
 * program may expect to get (a daemon that closed stdin) and would be
 * one more descriptor in every process the program starts. */
int shim_open_log_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* To VFORKSHIM_LOG_FILE, or to stderr when none is set or the one set
 * was refused at start-up with a warning; nowhere in a process that
 * config.c made silent (cfg.log_silent). A file that was usable at
 * start-up but is refused now (the process changed its own credentials
 * since: a daemon that drops its privileges before it exits) drops the
 * line rather than write it to stderr: stderr is the program's. */
void shim_write_log(const char *line, size_t len)
{
	if (cfg.log_silent)
		return;
	int fd = cfg.log_file ? shim_open_log_file(cfg.log_file) : 2;
	if (fd < 0) /* it was usable at start-up; it is not now */
		return;
	write(fd, line, len);
	if (fd != 2)
		close(fd);
}

/* The counts are those of the process whose memory this is: a copy
 * (proc.c) claims them anew at its first count; a child sharing our
 * memory (a rerouted child, a vfork child) counts into them. */
static unsigned stats_gen; /* the process (shim_proc_gen) they are of */

void shim_stats_claim(void)
{
	shim_proc_check();
	if (__atomic_load_n(&stats_gen, __ATOMIC_ACQUIRE) == shim_proc_gen)
		return;
	memset(&shim_live.stats, 0, sizeof shim_live.stats);
	__atomic_store_n(&shim_live.stats.owner, shim_proc_pid, __ATOMIC_RELEASE);
	__atomic_store_n(&stats_gen, shim_proc_gen, __ATOMIC_RELEASE);
}

bool shim_stats_mine(void)
{
	return __atomic_load_n(&shim_live.stats.owner, __ATOMIC_ACQUIRE) == (pid_t)syscall(SYS_getpid);
}

void shim_count_fallback(enum shim_reason r, bool is_fork)
{
	shim_stats_claim();
	STAT_ADD(fallback[r]);
	if (is_fork) {
		STAT_ADD(fork_real);
		shim_decide(NULL, (int)r, 0);
	} else {
		STAT_ADD(spawn_libc);
	}
}

int shim_stats_format(char *buf, size_t cap)
{
	struct shim_stats s;
	__atomic_load(&shim_live.stats.fork_rerouted, &s.fork_rerouted, __ATOMIC_RELAXED);
	__atomic_load(&shim_live.stats.fork_real, &s.fork_real, __ATOMIC_RELAXED);
	__atomic_load(&shim_live.stats.spawn_engine, &s.spawn_engine, __ATOMIC_RELAXED);
	__atomic_load(&shim_live.stats.spawn_libc, &s.spawn_libc, __ATOMIC_RELAXED);
	int n = shim_format(buf, cap,
			    "vforkshim: stats pid=%d fork_rerouted=%lu fork_real=%lu spawn_engine=%lu spawn_libc=%lu",
			    (int)getpid(), s.fork_rerouted, s.fork_real,
			    s.spawn_engine, s.spawn_libc);
	for (int r = 0; r < R_COUNT && (size_t)n + 2 < cap; r++)
		n += shim_format(buf + n, cap - (size_t)n, " fallback_%s=%lu",
				 shim_reason_name[r],
				 __atomic_load_n(&shim_live.stats.fallback[r], __ATOMIC_RELAXED));
	if ((size_t)n + 2 <= cap) {
		buf[n++] = '\n';
		buf[n] = '\0';
	}
	return n;
}
