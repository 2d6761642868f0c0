/* vforkshim-probe: what `vforkshim doctor` tries. One fork from
 * vforkshim_probe_spawn, which the doctor names as a site
 * (VFORKSHIM_SITES=vforkshim_probe_spawn); its child execs /bin/true.
 * Exits 0 when the child ran and exited 0. A program of the project's
 * own: a runtime's site can be missing or declined on a machine where
 * the clone itself works (Perl 5.40 hides its ops, Node's children
 * assign environ), which is not what the doctor asks. */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline, visibility("default"))) int vforkshim_probe_spawn(void)
{
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/true", "true", (char *)0);
		_exit(127);
	}
	int st = -1;
	while (p > 0 && waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return p > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	return vforkshim_probe_spawn() == 0 ? 0 : 1;
}
