/* What the engine starts with, written once at attach (attach.c) before
 * any call reaches it, read-only after: what the front hands over (the
 * next definition of every function the engine interposes or calls
 * through, where the front's own code lies) and the configuration read
 * from the environment (config.c). */
#include "core.h"

struct shim_calls real;
struct shim_config cfg = { .log = LOG_WARN };
uintptr_t shim_front_code_start, shim_front_code_end;
