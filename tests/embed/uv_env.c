/* libuv's uv_spawn with an environment, as Node calls it (its child
 * assigns environ before execvp, unless the shim keeps it from it).
 *
 *   uv_env alone N     no other thread in the process
 *   uv_env threads N   a thread reads the environment meanwhile
 *   uv_env const N     the same, the options in a read-only struct (an
 *                      embedder's static const one), the child's output
 *                      inherited
 *   uv_env stdio9 N    the same with nine stdio entries (libuv's child
 *                      then writes a heap array of its own)
 *
 * Prints each child's output, whether the parent's environ is as it
 * was, and (threads) whether the reader ever saw a child's variable. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

extern char **environ;
static volatile int stop;
static volatile unsigned long reads, seen;
static char out[64];
static size_t out_len;

static void *reader(void *arg)
{
	(void)arg;
	while (!stop) {
		if (getenv("UV_CHILD_ONLY") || !getenv("HOME"))
			seen++;
		reads++;
	}
	return NULL;
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	(void)h, (void)sz;
	*buf = uv_buf_init(out + out_len, (unsigned)(sizeof out - 1 - out_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n > 0)
		out_len += (size_t)n;
	else
		uv_close((uv_handle_t *)s, NULL);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	(void)sig;
	if (status)
		printf("exit %ld\n", (long)status);
	uv_close((uv_handle_t *)p, NULL);
}

/* in .rodata (or RELRO): a write to it would fault */
static char *ro_args[] = { "sh", "-c", "echo child: $UV_CHILD_ONLY", NULL };
static char *ro_env[] = { "UV_CHILD_ONLY=yes", "PATH=/usr/bin:/bin", NULL };
static const uv_stdio_container_t ro_stdio[3] = {
	{ .flags = UV_IGNORE },
	{ .flags = UV_INHERIT_FD, .data.fd = 1 },
	{ .flags = UV_INHERIT_FD, .data.fd = 2 },
};
static const uv_process_options_t ro_options = { .exit_cb = on_exit_cb, .file = "sh", .args = ro_args,
						 .env = ro_env, .stdio_count = 3,
						 .stdio = (uv_stdio_container_t *)ro_stdio };
static uv_stdio_container_t nine_stdio[9] = {
	{ .flags = UV_IGNORE },
	{ .flags = UV_INHERIT_FD, .data.fd = 1 },
	{ .flags = UV_INHERIT_FD, .data.fd = 2 },
	{ .flags = UV_INHERIT_FD, .data.fd = 2 }, { .flags = UV_INHERIT_FD, .data.fd = 2 },
	{ .flags = UV_INHERIT_FD, .data.fd = 2 }, { .flags = UV_INHERIT_FD, .data.fd = 2 },
	{ .flags = UV_INHERIT_FD, .data.fd = 2 }, { .flags = UV_INHERIT_FD, .data.fd = 2 },
};
static uv_process_options_t nine_options = { .exit_cb = on_exit_cb, .file = "sh", .args = ro_args,
					     .env = ro_env, .stdio_count = 9, .stdio = nine_stdio };

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 10;
	pthread_t t;
	if (argc > 1 && !strcmp(argv[1], "threads")) {
		pthread_create(&t, NULL, reader, NULL);
		while (!reads)
			;
	}
	if (argc > 1 && (!strcmp(argv[1], "const") || !strcmp(argv[1], "stdio9"))) {
		pthread_create(&t, NULL, reader, NULL);
		while (!reads)
			;
	}
	char **before = environ;
	char *args[] = { "sh", "-c", "echo $UV_CHILD_ONLY", NULL };
	char *env[] = { "UV_CHILD_ONLY=yes", "PATH=/usr/bin:/bin", NULL };
	for (int i = 0; argc > 1 && (!strcmp(argv[1], "const") || !strcmp(argv[1], "stdio9")) && i < n; i++) {
		uv_process_t proc;
		fflush(stdout);
		int r = uv_spawn(uv_default_loop(), &proc, argv[1][0] == 'c' ? &ro_options : &nine_options);
		if (r) {
			printf("uv_spawn: %s\n", uv_strerror(r));
			return 1;
		}
		uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	}
	for (int i = 0; argc > 1 && (!strcmp(argv[1], "alone") || !strcmp(argv[1], "threads")) && i < n; i++) {
		uv_loop_t *loop = uv_default_loop();
		uv_pipe_t pipe;
		uv_pipe_init(loop, &pipe, 0);
		uv_stdio_container_t stdio[3] = {
			{ .flags = UV_IGNORE },
			{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&pipe },
			{ .flags = UV_INHERIT_FD, .data.fd = 2 },
		};
		uv_process_options_t o = { .exit_cb = on_exit_cb, .file = "sh", .args = args, .env = env,
					   .stdio_count = 3, .stdio = stdio };
		uv_process_t proc;
		out_len = 0;
		int r = uv_spawn(loop, &proc, &o);
		if (r) {
			printf("uv_spawn: %s\n", uv_strerror(r));
			return 1;
		}
		uv_read_start((uv_stream_t *)&pipe, on_alloc, on_read);
		uv_run(loop, UV_RUN_DEFAULT);
		out[out_len] = '\0';
		if (i == 0 || strcmp(out, "yes\n"))
			printf("child %d: %s", i, out);
	}
	stop = 1;
	if (argc > 1 && strcmp(argv[1], "alone")) {
		pthread_join(t, NULL);
		printf("the reader saw a child's environment: %s\n", seen ? "yes" : "no");
	}
	printf("%d spawns; the parent's environ as before: %s\n", n,
	       environ == before && getenv("HOME") && !getenv("UV_CHILD_ONLY") ? "yes" : "no");
	return 0;
}
