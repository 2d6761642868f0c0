/* A plugin that works like uvloop around libuv's uv_spawn: it registers
 * a fork handler for the child, and its handler does part of the
 * child's work (closes a descriptor that must not reach the exec'd
 * program) while the plugin's `forking` is set. The fork itself is
 * made by a site in another object (the program's spawn_exec), which
 * the plugin calls: a rerouted fork would skip the handler, so the
 * shim must leave it real (tests/progs/atfork_caller.c). */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

extern int spawn_exec(char *const argv[]);

static volatile int forking = -1;

static void in_child(void)
{
	if (forking >= 0)
		close(forking);
}

__attribute__((constructor)) static void atfork_init(void)
{
	pthread_atfork(NULL, NULL, in_child);
}

/* Spawns `report fd:W`, W an inheritable pipe end that the handler
 * closes in the child: the report says "closed" */
int plugin_spawn(const char *report)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	char arg[32];
	snprintf(arg, sizeof arg, "fd:%d", p[1]);
	char *argv[] = { (char *)report, arg, NULL };
	forking = p[1];
	int st = spawn_exec(argv);
	forking = -1;
	close(p[0]);
	close(p[1]);
	return st;
}
