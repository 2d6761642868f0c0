/* Included last by every file whose code runs inside fork() before the
 * decision, in a rerouted child or in the engine's child: there, no
 * lock of libc's or the loader's and no allocation (fork.c). A direct
 * call to one of these is a compile error; tests/rules.sh checks the
 * objects for every call this cannot see. */
#pragma GCC poison malloc calloc realloc reallocarray free strdup strndup
#pragma GCC poison dlopen dlsym dlvsym dladdr dladdr1 dlclose dlerror
#pragma GCC poison pthread_mutex_lock pthread_rwlock_rdlock pthread_rwlock_wrlock
#pragma GCC poison printf fprintf sprintf snprintf fopen fclose fflush
