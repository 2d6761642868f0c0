/* The configuration's values: one parser per kind of value, shared by
 * the front (which only decides whether the engine is needed) and the
 * engine's configuration (engine/config.c). Pure functions: no
 * allocation, no libc call but strcmp. */
#ifndef VFORKSHIM_PARSE_H
#define VFORKSHIM_PARSE_H

#include <stdbool.h>

enum shim_fork_mode { FORK_SITES, FORK_ALL, FORK_OFF };
enum shim_spawn_mode { SPAWN_AUTO, SPAWN_ALWAYS, SPAWN_OFF };
enum shim_log_level { LOG_OFF, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Each returns 0, or -1 for a bad value (*out untouched). */
int shim_parse_bool_enable(const char *s, bool *out);
int shim_parse_fork_mode(const char *s, enum shim_fork_mode *out);
int shim_parse_spawn_mode(const char *s, enum shim_spawn_mode *out);
int shim_parse_size(const char *s, unsigned long long *out);
int shim_parse_log_level(const char *s, enum shim_log_level *out);

#endif
