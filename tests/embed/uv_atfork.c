/* libuv linked into the program (as uvloop's wheels bundle it), beside a
 * fork handler of the program's own that closes a descriptor in the
 * child: uv_spawn is a built-in site, but its object registers handlers
 * libuv's authors did not write. The fork must stay real
 * (fallback_atfork): the report says the descriptor was closed. No
 * thread, no environment passed: nothing else would decline it.
 *   uv_atfork REPORT */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <uv.h>

#include "../progs/own_handler.h"

/* wait for the child: its report must be written before we exit */
static void on_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
	(void)status, (void)sig;
	uv_close((uv_handle_t *)proc, NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	char arg[32];
	if (own_handler_register(arg, sizeof arg) < 0)
		return 1;
	char *args[] = { argv[1], arg, NULL };
	uv_stdio_container_t io[3] = { { .flags = UV_INHERIT_FD, .data.fd = 0 },
				       { .flags = UV_INHERIT_FD, .data.fd = 1 },
				       { .flags = UV_INHERIT_FD, .data.fd = 2 } };
	uv_process_options_t o = { .file = argv[1], .args = args, .stdio_count = 3, .stdio = io,
				   .exit_cb = on_exit_cb };
	uv_process_t proc;
	fflush(stdout);
	int r = uv_spawn(uv_default_loop(), &proc, &o);
	if (r) {
		fprintf(stderr, "uv_spawn: %s\n", uv_strerror(r));
		return 1;
	}
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	return 0;
}
