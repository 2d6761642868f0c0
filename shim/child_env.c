/* VFORKSHIM_FORK=all is the program's own: the programs it starts run
 * in the default mode, sites. A program started with fork=all that
 * itself forks without exec'ing would otherwise hold its parent
 * suspended: dash running `printf ... | wc` from system() forks a
 * subshell for printf, which fills the pipe before wc exists, while dash
 * waits for that child to exec or exit: a deadlock. The rerouted child
 * strips the variable at exec (child_guard.c, pass_on); here the
 * spawning functions do the same for a child given the program's own
 * environment. An explicit envp other than environ is the caller's and
 * is passed untouched. Runs in the parent only: it allocates, so in
 * the child of a rerouted fork (which shares our heap) it does nothing
 * and the calls keep their old path. */
#include <stdlib.h>
#include <string.h>

#include "shim.h"

extern char **environ;

static bool is_fork_var(const char *e)
{
	return strncmp(e, "VFORKSHIM_FORK=", 15) == 0;
}

bool shim_env_carries_fork_all(void)
{
	if (!(cfg.enabled && cfg.fork == FORK_ALL) || shim_guard.active)
		return false;
	for (char **e = environ; e && *e; e++)
		if (is_fork_var(*e))
			return true;
	return false;
}

char **shim_child_env(char *const *envp)
{
	if (envp != environ || !shim_env_carries_fork_all())
		return NULL;
	size_t n = 0;
	while (envp[n])
		n++;
	char **copy = malloc((n + 1) * sizeof *copy);
	if (!copy)
		return NULL; /* the child inherits fork=all: no worse than before */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_fork_var(envp[i]))
			copy[k++] = envp[i];
	copy[k] = NULL;
	return copy;
}
