/* An object's dynamic symbol table, read the way the dynamic loader
 * reads it but without it: no dlsym, dladdr or lock. Shared by the front
 * (finding the next definition of each function it passes on) and the
 * engine (finding the runtimes' sites). Nothing allocates or locks. */
#ifndef VFORKSHIM_DYNSYM_H
#define VFORKSHIM_DYNSYM_H

#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shim_dynsym {
	uintptr_t base; /* load bias: symbol values are relative to it */
	const ElfW(Sym) *symtab;
	const char *strtab;
	size_t strsz;
	const uint32_t *gnu_hash;
	const ElfW(Word) *sysv_hash;
	const ElfW(Half) *versym; /* DT_VERSYM, or NULL: no versions */
	const char *soname;       /* DT_SONAME, or NULL */
	const ElfW(Verdef) *verdef; /* DT_VERDEF: the versions it defines */
	size_t verdefnum;
};

/* The types a lookup accepts, as a mask of 1 << STT_* */
#define SHIM_SYM_FUNC (1u << STT_FUNC)
#define SHIM_SYM_IFUNC (1u << STT_GNU_IFUNC)
#define SHIM_SYM_DATA (1u << STT_OBJECT)
/* what the loader's own lookup accepts (glibc's dl-lookup.c, ALLOWED_STT,
 * TLS aside): hand-written assembly leaves a function without a type */
#define SHIM_SYM_LOOKUP ((1u << STT_NOTYPE) | (1u << STT_OBJECT) | (1u << STT_FUNC) | (1u << STT_COMMON) | \
			 (1u << STT_GNU_IFUNC))

/* A pointer of the dynamic section: glibc relocates them in place, other
 * loaders (musl) and the vDSO leave them as offsets from the base. */
uintptr_t shim_dyn_ptr(uintptr_t base, ElfW(Addr) v);
/* From the object's dynamic section; false without a symbol table */
bool shim_dynsym_init(struct shim_dynsym *d, uintptr_t base, const ElfW(Dyn) *dyn);
/* The GNU hash of a name, which shim_dynsym_find takes */
uint32_t shim_dynsym_hash(const char *name);
/* The ELF (SysV) hash: DT_HASH's, and a version definition's vd_hash */
uint32_t shim_dynsym_sysv_hash(const char *name);
/* The definition of `name` whose type is in `types`, of the default
 * version where the object has versions (what dlsym finds for a name
 * without one: never a hidden old version, posix_spawn@GLIBC_2.2.5), or
 * NULL. */
const ElfW(Sym) *shim_dynsym_find(const struct shim_dynsym *d, const char *name, uint32_t hash,
				  unsigned types);
/* The number of dynamic symbols */
uint32_t shim_dynsym_count(const struct shim_dynsym *d);
/* The symbols that are not in the hash table (index 1 up to this):
 * with DT_GNU_HASH, the undefined ones, what the object imports. */
uint32_t shim_dynsym_unhashed(const struct shim_dynsym *d);

#endif
