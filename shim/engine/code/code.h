/* The engine's readers of loaded objects: their symbol tables and
 * relocations (elf.c), the calls they make through their PLT
 * (import_calls.c), and the machine code of a child's path
 * (env_load.c, child.c), read through each architecture's decoder
 * (code_<arch>.c, behind arch.h). Used by the runtimes (runtimes/) and the site table
 * (fork/sites.c); they use nothing of either. */
#ifndef VFORKSHIM_CODE_H
#define VFORKSHIM_CODE_H

#include <link.h>

#include "../core/core.h"
#include "../../common/dynsym.h"
#include "unwind.h"

/* A loaded object, seen through its own program headers and dynamic
 * symbol table (elf.c), inside a dl_iterate_phdr callback. */
struct shim_object {
	const struct dl_phdr_info *info;
	const char *path, *soname;
	uintptr_t text_start, text_end; /* its executable segments */
	struct shim_dynsym sym; /* its dynamic symbols (common/dynsym.c) */
};
bool shim_object_init(struct shim_object *o, const struct dl_phdr_info *info, const char *program);
bool shim_object_sym(const struct shim_object *o, const char *name, uintptr_t *start, size_t *size);
bool shim_object_data(const struct shim_object *o, const char *name, uintptr_t *start, size_t *size);
bool shim_object_defines(const struct shim_object *o, const char *name);
void *shim_object_callable(const struct shim_object *o, const char *name);
bool shim_object_references(const struct shim_object *o, const char *name);
bool shim_object_reloc(const struct shim_object *o, const char *name, uintptr_t *where);
bool shim_object_named(const struct shim_object *o, const char *list);
bool shim_object_is(const struct shim_object *o, const char *name, bool prefix);
bool shim_object_mapped(const struct shim_object *o, uintptr_t a, size_t len);
bool shim_object_among(const struct shim_object *o, const char *prefix, uintptr_t a);
bool shim_object_build_id(const struct shim_object *o, const unsigned char **id, size_t *len);
/* the word at `at` is environ, or one of the object's words holding its
 * address (a GOT slot of environ or an alias) */
bool shim_object_environ_word(const struct shim_object *o, uintptr_t at);
/* the address of one of `to` held in the object's data (a pointer to
 * it), or as a 4-byte immediate in a non-PIE x86_64 program's code */
bool shim_object_holds_address(const struct shim_object *o, const uintptr_t *to, int nto);
/* code_<arch>.c: the callee-saved register (DWARF number) through which
 * the child of the fork call at `call` loads the env it stores to
 * environ, at `off` in a struct of `size` bytes, the call in the function
 * [fn, fn_end), proved as env_load.c
 * says; -1: no proof, *stop the instruction where reading stopped (0:
 * the paths were read, and do more with the register than that) */
int shim_code_env_load(const struct shim_object *o, uintptr_t call, uintptr_t lo, uintptr_t hi,
		       uintptr_t fn, uintptr_t fn_end, int32_t off, int32_t size, uintptr_t *stop);

/* child.c: the child of the fork call at `call` first compares the word
 * of its frame at sp + *disp (sp as at the call) with `value` and
 * branches; *differ: where it goes when they differ */
bool shim_code_child_tests_word(const struct shim_object *o, uintptr_t call, uintptr_t value, int32_t *disp,
				uintptr_t *differ);
/* the function a direct call at `call` (below hi) reaches, or 0 */
uintptr_t shim_call_target(uintptr_t call, uintptr_t hi);

/* The calls an object makes to an imported function (import_calls.c):
 * the addresses of up to `max` call instructions (x86_64 and aarch64:
 * code/arch.h; elsewhere none) */
int shim_import_calls(const struct shim_object *o, const char *name, uintptr_t *calls, int max);
/* the end of a call they return (its return address) */
uintptr_t shim_call_end(uintptr_t call);
/* the same within [lo, hi) only (one function's code) */
int shim_import_calls_in(const struct shim_object *o, const char *name, uintptr_t lo, uintptr_t hi,
			 uintptr_t *calls, int max);
/* the same, and the calls of the object's functions that jump to it */
int shim_import_callers(const struct shim_object *o, const char *name, uintptr_t *calls, int max);
/* the GOT slot the loader binds to an imported symbol, or 0 */
uintptr_t shim_import_slot(const struct shim_object *o, const char *name);
bool shim_is_call_through(const struct shim_object *o, uintptr_t call, uintptr_t slot);

#endif
