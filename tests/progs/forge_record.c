/* forge_record DIR VARIANT: a process that is not the library but looks
 * like it to `vforkshim ps`. It creates DIR/libvforkshim.so, maps it
 * shared and writable (a writable file-backed mapping of that name, as
 * the library's data is), writes a live record shaped like struct
 * shim_live (shim/engine/core/core.h, mirrored here on purpose: the test must not
 * follow the library's header) with one hostile field chosen by
 * VARIANT, prints "ready" and sleeps until killed.
 *
 * VARIANT `valid` writes a well-formed record (counters 1, 2, 3 ...,
 * owned by this pid): ps must show it as it would the library's, which
 * proves the layout mirrored here is the one ps reads. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NAMES "fork_rerouted fork_real spawn_engine spawn_libc fallback_policy fallback_denied " \
	"fallback_nested fallback_arch fallback_rss fallback_refused fallback_shstk fallback_resource " \
	"fallback_layout fallback_unwind fallback_threads fallback_busy fallback_signal fallback_unread " \
	"fallback_atfork fallback_preexec fallback_undecoded fallback_options"
#define NCOUNT 22

struct live { /* struct shim_live */
	char magic[16];
	uint32_t size, word, counters;
	int32_t owner_at, enabled, fork, spawn;
	char names[512];
	struct {
		pid_t owner;
		unsigned long c[NCOUNT];
	} stats;
};

#define PAGE 4096
#define AT 64 /* the record's offset in the mapping, as if after other data */

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: forge_record DIR VARIANT\n");
		return 2;
	}
	const char *v = argv[2];
	char path[4096];
	snprintf(path, sizeof path, "%s/libvforkshim.so", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, PAGE) != 0) {
		perror(path);
		return 1;
	}
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	struct live *l = (struct live *)(m + AT);
	memcpy(l->magic, "vforkshim-live1", 16);
	l->size = sizeof *l;
	l->word = sizeof(unsigned long);
	l->counters = offsetof(struct live, stats.c);
	l->owner_at = offsetof(struct live, stats.owner);
	l->enabled = 1;
	l->fork = 0;
	l->spawn = 0;
	strcpy(l->names, NAMES);
	l->stats.owner = getpid();
	for (int i = 0; i < NCOUNT; i++)
		l->stats.c[i] = i + 1;

	if (!strcmp(v, "valid")) {
	} else if (!strcmp(v, "fork-4")) { /* the issue's */
		l->fork = -4;
		l->owner_at = 0x7fffff00;
	} else if (!strcmp(v, "fork-1")) { /* bash: the last element */
		l->fork = -1;
	} else if (!strcmp(v, "spawn7")) {
		l->spawn = 7;
	} else if (!strcmp(v, "enabled5")) {
		l->enabled = 5;
	} else if (!strcmp(v, "word3")) {
		l->word = 3;
	} else if (!strcmp(v, "size-far")) { /* beyond the bytes read */
		l->size = 1 << 20;
	} else if (!strcmp(v, "counters-far")) {
		l->counters = 1 << 20;
	} else if (!strcmp(v, "counters-odd")) { /* not word-aligned */
		l->counters += 1;
	} else if (!strcmp(v, "owner-neg")) {
		l->owner_at = -8;
	} else if (!strcmp(v, "names-nonul")) { /* 512 bytes, no NUL */
		for (size_t i = 0; i < sizeof l->names; i++)
			l->names[i] = "fork_real "[i % 10];
	} else if (!strcmp(v, "names-ctl")) { /* a line break, an escape */
		strcpy(l->names, "fork_rerouted fork_real\n99999 evil \033[2J spawn_engine spawn_libc");
	} else if (!strcmp(v, "names-many")) { /* more names than counters */
		memset(l->names, 0, sizeof l->names);
		for (size_t i = 0; i < sizeof l->names - 3; i++) /* "a a ... a" */
			l->names[i] = i % 2 ? ' ' : 'a';
	} else if (!strcmp(v, "record-cut")) { /* whole but for its end, past the bytes read */
		size_t keep = offsetof(struct live, stats.c) - 8;
		memmove(m + PAGE - keep, l, keep);
		memset(l, 0, keep);
	} else if (!strcmp(v, "magic-end")) { /* the magic, the header past the end */
		memset(l, 0, sizeof *l);
		memcpy(m + PAGE - 16, "vforkshim-live1", 16);
	} else {
		fprintf(stderr, "forge_record: unknown variant '%s'\n", v);
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
