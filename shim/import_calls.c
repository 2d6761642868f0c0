/* The calls one loaded object makes to a function of another (vfork,
 * fork), found in its relocations and machine code, for sites that have
 * no dynamic symbol: Ruby's function that calls vfork (rt_ruby.c),
 * CPython's fork in _posixsubprocess (rt_cpython.c).
 *
 * Located the way a disassembler would: the GOT slot that the dynamic
 * relocations bind to the function, the PLT entry that jumps through it,
 * and every `call` to either. x86_64 encodings only: other architectures
 * find nothing here, and those sites stay unknown there (real forks).
 *
 * Runs while the site table is rebuilt (sites.c), inside a
 * dl_iterate_phdr callback; the runtimes keep what they found per
 * object (a scan reads megabytes of code). */
#include <elf.h>
#include <link.h>
#include <string.h>

#include "shim.h"
#include "lockfree.h"

#if defined(__x86_64__)

struct scan {
	uintptr_t *calls;
	int max, n;
};


/* The GOT slot bound to `name` by a JUMP_SLOT or GLOB_DAT relocation:
 * the object calls that function of another object. */
uintptr_t shim_import_slot(const struct shim_object *o, const char *name)
{
	const struct dl_phdr_info *info = o->info;
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!dyn)
		return 0;
	const ElfW(Rela) *rel[2] = { NULL, NULL };
	size_t relsz[2] = { 0, 0 };
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL: rel[0] = (const void *)shim_dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: relsz[0] = dyn->d_un.d_val; break;
		case DT_RELA: rel[1] = (const void *)shim_dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_RELASZ: relsz[1] = dyn->d_un.d_val; break;
		}
	}
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; rel[t] && i < relsz[t] / sizeof **rel; i++) {
			unsigned type = ELF64_R_TYPE(rel[t][i].r_info);
			if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
				continue;
			const ElfW(Sym) *sym = &o->symtab[ELF64_R_SYM(rel[t][i].r_info)];
			if (sym->st_name < o->strsz && strcmp(o->strtab + sym->st_name, name) == 0)
				return info->dlpi_addr + rel[t][i].r_offset;
		}
	return 0;
}

static int32_t rel32(const unsigned char *p)
{
	int32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static void add_call(struct scan *sc, uintptr_t call)
{
	if (sc->n < sc->max)
		sc->calls[sc->n++] = call;
}

/* Within one executable segment: the PLT entries that jump through
 * `slot` (`jmp *disp(%rip)`, maybe behind endbr64 and a bnd prefix),
 * then the calls to them or through the slot itself. */
static void scan_segment(struct scan *sc, const unsigned char *b, size_t len, uintptr_t slot)
{
	uintptr_t plt[4];
	int nplt = 0;
	for (size_t i = 0; i + 6 <= len && nplt < 4; i++) {
		if (b[i] != 0xff || b[i + 1] != 0x25 || (uintptr_t)(b + i + 6) + rel32(b + i + 2) != slot)
			continue;
		size_t s = i;
		if (s >= 1 && b[s - 1] == 0xf2)
			s--; /* bnd jmp */
		if (s >= 4 && !memcmp(b + s - 4, "\xf3\x0f\x1e\xfa", 4))
			s -= 4; /* endbr64 */
		plt[nplt++] = (uintptr_t)(b + s);
	}
	for (size_t i = 0; i + 6 <= len; i++) {
		if (b[i] == 0xe8) {
			uintptr_t to = (uintptr_t)(b + i + 5) + rel32(b + i + 1);
			for (int k = 0; k < nplt; k++)
				if (to == plt[k])
					add_call(sc, (uintptr_t)(b + i));
		} else if (b[i] == 0xff && b[i + 1] == 0x15 &&
			   (uintptr_t)(b + i + 6) + rel32(b + i + 2) == slot) {
			add_call(sc, (uintptr_t)(b + i)); /* -fno-plt call */
		}
	}
}

/* Is the instruction at `call` (in the object's code) a call of the
 * function whose GOT slot is `slot`: through its PLT entry, or through
 * the slot itself? */
bool shim_is_call_through(const struct shim_object *o, uintptr_t call, uintptr_t slot)
{
	const unsigned char *p = (const unsigned char *)call;
	if (!slot || call < o->text_start || call + 6 > o->text_end)
		return false;
	if (p[0] == 0xff && p[1] == 0x15)
		return (uintptr_t)(p + 6) + rel32(p + 2) == slot;
	if (p[0] != 0xe8)
		return false;
	const unsigned char *t = (const unsigned char *)((uintptr_t)(p + 5) + rel32(p + 1));
	if ((uintptr_t)t < o->text_start || (uintptr_t)t + 11 > o->text_end)
		return false;
	if (!memcmp(t, "\xf3\x0f\x1e\xfa", 4))
		t += 4; /* endbr64 */
	if (t[0] == 0xf2)
		t++; /* bnd */
	return t[0] == 0xff && t[1] == 0x25 && (uintptr_t)(t + 6) + rel32(t + 2) == slot;
}

int shim_import_calls(const struct shim_object *o, const char *name, uintptr_t *calls, int max)
{
	struct scan sc = { calls, max, 0 };
	const struct dl_phdr_info *info = o->info;
	uintptr_t slot = shim_import_slot(o, name);
	for (int i = 0; slot && i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && (ph->p_flags & PF_R))
			scan_segment(&sc, (const unsigned char *)(info->dlpi_addr + ph->p_vaddr), ph->p_filesz, slot);
	}
	return sc.n;
}

#else

int shim_import_calls(const struct shim_object *o, const char *name, uintptr_t *calls, int max)
{
	(void)o, (void)name, (void)calls, (void)max;
	return 0;
}

uintptr_t shim_import_slot(const struct shim_object *o, const char *name)
{
	(void)o, (void)name;
	return 0;
}

bool shim_is_call_through(const struct shim_object *o, uintptr_t call, uintptr_t slot)
{
	(void)o, (void)call, (void)slot;
	return false;
}

#endif
