/* A rerouted child's own popen streams (spawn/popen.c keeps them in the
 * guard's TLS, shim_guard.popen_chain): handed to a copy a raw fork made
 * of the child, or freed by the parent once the child is gone. Not
 * lock-free (free): the parent calls it after the child, in its own
 * context (fork.c). */
#include <stdlib.h>

#include "fork.h"

/* A copy of a rerouted child inherits that child's own streams: they
 * are the copy's now (guard_env.c puts them here, popen.c reads them) */
struct shim_popen_entry *shim_guard_adopted;

/* The parent of a rerouted child, once the child is gone, frees the
 * entries the child's popen left in the memory they shared. Not the
 * FILE objects: the child may have fclose'd one (undefined for a popen
 * stream, but done), and its descriptors were the child's. They were
 * never on libc's list of streams (spawn/popen.c unlinks them at once):
 * a few hundred bytes of each stay in the parent's heap, where a real
 * fork would leave nothing. */
void shim_guard_drop_streams(struct shim_popen_entry *child_chain)
{
	for (struct shim_popen_entry *p = child_chain, *next; p; p = next) {
		next = p->next;
		free(p);
	}
}

