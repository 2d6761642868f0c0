/* Loading the engine, in the front's constructor only.
 *
 * The engine (libvforkshim-engine.so) lives beside the front, wherever
 * that was installed: its path is the front's own, as the loader
 * recorded it, with the file name changed. It is loaded with RTLD_LOCAL
 * (its names never enter the global scope: it interposes nothing by
 * itself) and never unloaded, then handed the next definitions. A
 * missing or foreign engine leaves the process as without the library,
 * with one warning line.
 *
 * A call that comes before this constructor (from another library's)
 * goes to the next definition, as it would without the library: the
 * engine is attached before main, and before any thread of the program
 * can exist but a constructor's own. */
#include <dlfcn.h>
#include <link.h>
#include <limits.h>
#include <string.h>

#include "front.h"

#define ENGINE_NAME "libvforkshim-engine.so"

const struct shim_calls *shim_front_engine;
struct shim_front_live shim_front_live = { .magic = SHIM_FRONT_MAGIC };

/* Linked into the same program (the unit tests' check_linked): no dlopen.
 * Hidden and weak: in the front library it is simply absent. */
extern const struct shim_calls *vforkshim_engine_attach(const struct shim_front *front)
	__attribute__((weak, visibility("hidden")));

static void copy(char *to, size_t cap, const char *from)
{
	size_t n = 0;
	for (; from && from[n] && n + 1 < cap; n++)
		to[n] = from[n];
	to[n] = '\0';
}

/* The front's code, from its own program headers */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));
static void own_code(uintptr_t *start, uintptr_t *end)
{
	/* the program headers follow the ELF header in the mapping, not in
	 * the object __ehdr_start names: through an integer, which UBSan's
	 * object-size check would otherwise stop at */
	uintptr_t base = (uintptr_t)&__ehdr_start; /* the first PT_LOAD maps the header at offset 0 */
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + __ehdr_start.e_phoff);
	*start = *end = 0;
	for (int i = 0; i < __ehdr_start.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
			*start = base + ph[i].p_vaddr;
			*end = *start + ph[i].p_memsz;
		}
	if (*start) /* p_vaddr counts from the first PT_LOAD's */
		for (int i = 0; i < __ehdr_start.e_phnum; i++)
			if (ph[i].p_type == PT_LOAD) {
				*start -= ph[i].p_vaddr;
				*end -= ph[i].p_vaddr;
				break;
			}
}

static shim_engine_attach_fn load(void)
{
	if (vforkshim_engine_attach)
		return vforkshim_engine_attach;
	const char *self = shim_front_path();
	char path[PATH_MAX];
	size_t dir = 0, n = self ? strlen(self) : 0;
	for (size_t i = 0; i < n; i++)
		if (self[i] == '/')
			dir = i + 1;
	if (!self || dir + sizeof ENGINE_NAME > sizeof path) {
		shim_front_warn("warning: engine not loaded: the library's own path is unknown", "");
		return NULL;
	}
	memcpy(path, self, dir);
	memcpy(path + dir, ENGINE_NAME, sizeof ENGINE_NAME);
	void *(*next_dlopen)(const char *, int) = shim_front_lookup("dlopen");
	void *(*next_dlsym)(void *, const char *) = shim_front_lookup("dlsym");
	char *(*next_dlerror)(void) = shim_front_lookup("dlerror");
	void *h = next_dlopen ? next_dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) : NULL;
	shim_engine_attach_fn attach = h && next_dlsym ? (shim_engine_attach_fn)next_dlsym(h, SHIM_ENGINE_ATTACH) : NULL;
	if (!attach)
		shim_front_warn("warning: engine not loaded, the library is inert: ",
				next_dlerror ? next_dlerror() : "no dlopen");
	return attach;
}

/* glibc calls constructors with the program's argc, argv and environment */
__attribute__((constructor)) static void shim_front_init(int argc, char **argv, char **env)
{
	(void)argc, (void)argv;
	char why[sizeof shim_front_live.why];
	bool on = false;
	if (!shim_front_why(env, why, sizeof why, &on)) {
		if (on) /* else FRONT_OFF, unwritten: no page of ours copied for it */
			shim_front_live.state = FRONT_ALONE;
		return;
	}
	copy(shim_front_live.why, sizeof shim_front_live.why, why);
	shim_front_live.state = FRONT_FAILED;
	shim_engine_attach_fn attach = load();
	if (!attach || !shim_front_resolve_all())
		return;
	struct shim_front f = { SHIM_API_VERSION, sizeof f, sizeof(struct shim_calls), &shim_front_next,
				shim_front_live.why, 0, 0 };
	own_code(&f.code_start, &f.code_end);
	const struct shim_calls *calls = attach(&f);
	if (!calls) {
		shim_front_warn("warning: engine not loaded, the library is inert: ",
				"the engine is of another version than the front");
		return;
	}
	shim_front_live.state = FRONT_ENGINE;
	__atomic_store_n(&shim_front_engine, calls, __ATOMIC_RELEASE);
}
