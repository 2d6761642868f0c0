/* popen and pclose on the engine, with glibc 2.36's contract
 * (libio/iopopen.c): modes "r" or "w" with an optional "e"
 * (close-on-exec for the caller's end), anything else EINVAL; the child
 * runs `sh -c command` with the pipe on its stdin or stdout and the
 * streams of earlier popen calls closed (POSIX); a spawn that fails
 * gives NULL with ENOMEM; pclose waits and returns the wait status.
 *
 * Streams we open are kept in our own chain, and pclose hands any other
 * FILE to the real pclose. fclose() on one of our streams (undefined by
 * POSIX) closes it without reaping the child: see the README. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include "spawn.h"

/* an entry of a chain of streams (struct shim_popen_entry, fork/fork.h:
 * the guard hands a rerouted child's own over or frees them) */
#define proc shim_popen_entry

static struct proc *chain;
/* A copy of a rerouted child inherits that child's own streams (its
 * chain was in TLS): they are this process's too, kept apart from
 * `chain` because they arrive without the lock (shim_guard_adopted,
 * fork/guard_env.c). */
#define adopted shim_guard_adopted
static pthread_mutex_t chain_lock = PTHREAD_MUTEX_INITIALIZER;

static void lock_prepare(void) { pthread_mutex_lock(&chain_lock); }
static void lock_parent(void) { pthread_mutex_unlock(&chain_lock); }
static void lock_child(void) { pthread_mutex_init(&chain_lock, NULL); }

/* In a copy (proc.c): the lock is held by nobody; the chain stays, as
 * the streams it names do (glibc's copy keeps its popen list too). */
void shim_popen_forget(void)
{
	chain_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}
SHIM_ON_COPY(shim_popen_forget);

#ifdef __GLIBC__
/* glibc's list of every open stream (libio, exported since 2.2.5): a
 * rerouted child's stream must not be on it, in memory it shares with
 * its parent, where the parent's fflush(NULL) or exit would write the
 * child's buffer into whatever the parent has at that descriptor
 * number, even while the child runs. The child's own pclose flushes
 * it as usual. Weak: a libc without it keeps the stream listed. */
extern void _IO_un_link(void *) __attribute__((weak));
#endif

static void keep_off_libc_list(FILE *fp)
{
#ifdef __GLIBC__
	if (_IO_un_link)
		_IO_un_link(fp);
#else
	(void)fp;
#endif
}

/* Registered at the first engine popen(), not at load (see system.c);
 * until then the chain is empty and pclose does not take the lock. */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static bool used;
static void register_atfork(void)
{
	pthread_atfork(lock_prepare, lock_parent, lock_child);
	__atomic_store_n(&used, true, __ATOMIC_RELEASE);
}

static int parse_mode(const char *mode, bool *read, bool *cloexec)
{
	bool r = false, w = false;
	*cloexec = false;
	for (; *mode; mode++) {
		switch (*mode) {
		case 'r': r = true; break;
		case 'w': w = true; break;
		case 'e': *cloexec = true; break;
		default: return -1;
		}
	}
	if (r == w)
		return -1;
	*read = r;
	return 0;
}

/* Returns the stream, NULL with errno set, or sets *declined when the
 * engine would not run: then nothing is left open. The child's file
 * actions are built in the engine's own form, not glibc's: popen needs
 * no verified layout. */
static FILE *popen_on_engine(const char *command, bool rd, bool cloexec, bool *declined)
{
	int fds[2];
	*declined = false;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return NULL;
	int parent_end = rd ? 0 : 1, child_end = 1 - parent_end;
	int child_fd = rd ? 1 : 0;
	FILE *fp = NULL;
	struct shim_fa *acts = NULL;
	struct proc *pr = malloc(sizeof *pr);

	/* Already on the child's fd: move it, so that the dup2 below
	 * clears FD_CLOEXEC in the child only. */
	if (fds[child_end] == child_fd) {
		int tmp = fcntl(child_fd, F_DUPFD_CLOEXEC, 0);
		if (tmp < 0)
			goto fail;
		close(fds[child_end]);
		fds[child_end] = tmp;
	}
	/* fwide: glibc's popen returns a byte-oriented stream (its
	 * tst-popen checks); fdopen leaves the orientation undecided */
	if (!pr || !(fp = fdopen(fds[parent_end], rd ? "r" : "w")) || fwide(fp, -1) >= 0)
		goto fail;

	/* A rerouted child's streams go on a chain of its own: the parent's
	 * is shared memory, where the child's entries would name descriptors
	 * of the child's table. Its popen closes both chains' streams, as a
	 * real fork's child would (it inherits the parent's list). */
	struct proc **own = SHIM_IN_CHILD ? &shim_guard.popen_chain : &chain;
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&chain_lock);
	int n = 1, ret = ENOMEM;
	struct proc *lists[3] = { chain, __atomic_load_n(&adopted, __ATOMIC_ACQUIRE), own != &chain ? *own : NULL };
	for (int l = 0; l < 3; l++)
		for (struct proc *p = lists[l]; p; p = p->next)
			n++;
	if ((acts = malloc((size_t)n * sizeof *acts))) {
		n = 0;
		acts[n++] = (struct shim_fa){ .kind = FA_DUP2, .fd = fds[child_end], .newfd = child_fd };
		/* POSIX: the streams of earlier popen calls are closed */
		for (int l = 0; l < 3; l++)
			for (struct proc *p = lists[l]; p; p = p->next)
				if (fileno(p->fp) != child_fd)
					acts[n++] = (struct shim_fa){ .kind = FA_CLOSE, .fd = fileno(p->fp) };
		char *argv[] = { (char *)"sh", (char *)"-c", (char *)command, NULL };
		extern char **environ;
		bool clone_failed;
		ret = shim_engine_spawn(&pr->pid, "/bin/sh", acts, n, NULL, argv, environ, false, &clone_failed);
		if (clone_failed) { /* nothing created: libc's popen says what it says */
			shim_engine_declined(R_RESOURCE);
			ret = SHIM_DECLINED;
		}
	}
	if (ret == 0) {
		pr->fp = fp;
		pr->next = *own;
		*own = pr;
		if (own != &chain)
			keep_off_libc_list(fp);
	}
	pthread_mutex_unlock(&chain_lock);
	if (ret != 0) {
		*declined = ret == SHIM_DECLINED;
		goto fail;
	}
	free(acts);
	close(fds[child_end]);
	if (!cloexec)
		fcntl(fds[parent_end], F_SETFD, 0);
	return fp;

fail:
	free(acts);
	close(fds[child_end]);
	if (fp)
		fclose(fp);
	else
		close(fds[parent_end]);
	free(pr);
	if (!*declined)
		errno = ENOMEM;
	return NULL;
}

FILE *engine_popen(const char *command, const char *mode)
{
	shim_proc_check();
	SHIM_AUDIT_NOTE("popen");
	if (cfg.enabled && cfg.audit_dir) {
		unsigned long long t0 = shim_audit_now();
		FILE *fp = real.popen(command, mode);
		shim_audit_spawn(SHIM_AUDIT_POPEN, (uintptr_t)__builtin_return_address(0), shim_audit_now() - t0);
		return fp;
	}
	bool rd, cloexec;
	/* The engine whatever the mode in a rerouted child (spawn.c), and in
	 * a copy of one that inherited its streams: libc's popen does not
	 * know them, and its child would keep them open (a reader of one
	 * would wait for that child's end, not its writer's pclose). */
	bool engine_only = SHIM_IN_CHILD || __atomic_load_n(&adopted, __ATOMIC_ACQUIRE);
	if (!cfg.enabled || parse_mode(mode, &rd, &cloexec) != 0 ||
	    (!engine_only && !shim_engine_wanted(false)))
		return real.popen(command, mode);
	int saved_errno = errno;
	bool declined;
	FILE *fp = popen_on_engine(command, rd, cloexec, &declined);
	if (!declined)
		return fp;
	errno = saved_errno;
	return real.popen(command, mode);
}

static struct proc *unlink_from(struct proc **head, FILE *fp)
{
	for (struct proc **pp = head; *pp; pp = &(*pp)->next) {
		if ((*pp)->fp == fp) {
			struct proc *found = *pp;
			*pp = found->next;
			return found;
		}
	}
	return NULL;
}

int engine_pclose(FILE *fp)
{
	shim_proc_check();
	struct proc *found = NULL;
	if (!__atomic_load_n(&used, __ATOMIC_ACQUIRE) && !SHIM_IN_CHILD)
		return real.pclose(fp); /* no engine popen ever ran */
	if (SHIM_IN_CHILD) {
		found = unlink_from(&shim_guard.popen_chain, fp);
		if (!found) {
			/* Not the child's own (its popen always runs here): the
			 * parent's, ours or libc's, in memory the child shares,
			 * which libc's pclose would free. A real fork's child
			 * flushes its copy of the buffer into the pipe, closes
			 * its descriptor and finds no child to wait for: the
			 * same, without touching the parent's FILE. */
			int fd = fileno(fp);
#ifdef __GLIBC__
			for (const char *p = fp->_IO_write_base; fd >= 0 && p && p < fp->_IO_write_ptr;) {
				ssize_t n = write(fd, p, (size_t)(fp->_IO_write_ptr - p));
				if (n <= 0 && errno != EINTR)
					break;
				p += n > 0 ? n : 0;
			}
#endif
			close(fd);
			errno = ECHILD;
			return -1;
		}
	} else {
		pthread_mutex_lock(&chain_lock);
		found = unlink_from(&chain, fp);
		if (!found)
			found = unlink_from(&adopted, fp);
		pthread_mutex_unlock(&chain_lock);
	}
	if (!found)
		return real.pclose(fp);

	/* glibc: the flush/close status, unless the wait status is
	 * non-zero; the child is reaped either way. */
	int close_status = fclose(fp);
	pid_t pid = found->pid;
	free(found);
	int wstatus, r, state;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	while ((r = waitpid(pid, &wstatus, 0)) < 0 && errno == EINTR)
		;
	pthread_setcancelstate(state, NULL);
	if (r < 0)
		return -1;
	return wstatus != 0 ? wstatus : close_status;
}
