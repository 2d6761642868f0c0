/* A plugin whose constructor and destructor wait for the application's
 * lock (tests/progs/loader_lock.c): while they wait, the thread that
 * runs them holds the dynamic loader's lock. */
#include <pthread.h>

extern pthread_mutex_t app_lock;
extern volatile int in_loader;

__attribute__((constructor)) static void waiter_init(void)
{
	in_loader = 1;
	pthread_mutex_lock(&app_lock);
	pthread_mutex_unlock(&app_lock);
	in_loader = 0;
}

__attribute__((destructor)) static void waiter_fini(void)
{
	in_loader = 1;
	pthread_mutex_lock(&app_lock);
	pthread_mutex_unlock(&app_lock);
	in_loader = 0;
}
