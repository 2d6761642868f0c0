/* A fork handler of the program's own, for the tests of a built-in site
 * beside it (perl_atfork.c, tests/embed/uv_atfork.c): the handler
 * closes a pipe's write end in every child, and ARG gets "fd:N" for the
 * report program, which says whether the child still had it. A
 * rerouted fork skips the handler: the report differs. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int own_handler_fd = -1;

static void own_handler_child(void)
{
	if (own_handler_fd >= 0)
		close(own_handler_fd);
}

/* 0, or -1 when the pipe cannot be made */
static int own_handler_register(char *arg, size_t n)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	own_handler_fd = p[1];
	pthread_atfork(NULL, NULL, own_handler_child);
	snprintf(arg, n, "fd:%d", p[1]);
	return 0;
}
