/* Functions that call vfork(), and objects that import a function:
 * found in the loaded objects' relocations and machine code.
 *
 * Ruby 3.1 forks its exec-bound children from a static function
 * (process.c, retry_fork_async_signal_safe) that has no dynamic symbol,
 * so a site cannot name it. That same function calls vfork() instead of
 * fork() whenever the process is unprivileged: Ruby's authors wrote its
 * child for vfork. So the site is "the function of libruby that calls
 * vfork", located the way a disassembler would: the GOT slot that the
 * dynamic relocations bind to vfork, the PLT entry that jumps through it,
 * and every `call` to either; the unwinder's FDE lookup then gives the
 * start of the function around each call. x86_64 encodings only: other
 * architectures find nothing here and Ruby's fork stays real there.
 *
 * Runs in the parent, never inside a fork, under sites.c's lock: at
 * start-up and when the number of loaded objects changes. Returns the
 * starts found in objects not scanned before. */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#include "shim.h"

/* Is the object at `path` named `prefix`... ("libruby" matches
 * libruby-3.1.so.3.1)? */
bool shim_object_named(const char *path, const char *prefix)
{
	if (!path)
		return false;
	const char *s = strrchr(path, '/');
	return strncmp(s ? s + 1 : path, prefix, strlen(prefix)) == 0;
}

#if defined(__x86_64__)

/* objects already scanned, by load address: a dlopen elsewhere must not
 * cost another pass over libruby's 3 MB of code */
static uintptr_t scanned[8];
static int nscanned;

struct scan {
	const char *prefix;
	uintptr_t *starts;
	int max, n;
	void *(*enclosing)(void *);
};


static uintptr_t dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
	/* glibc relocates these d_ptr values in place; be safe if not */
	return v < info->dlpi_addr ? info->dlpi_addr + v : v;
}

/* The GOT slot bound to `name` by a JUMP_SLOT or GLOB_DAT relocation:
 * the object calls that function of another object. */
static uintptr_t import_slot(const struct dl_phdr_info *info, const char *name)
{
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!dyn)
		return 0;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	const ElfW(Rela) *rel[2] = { NULL, NULL };
	size_t relsz[2] = { 0, 0 };
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: symtab = (const void *)dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_STRTAB: strtab = (const void *)dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_JMPREL: rel[0] = (const void *)dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: relsz[0] = dyn->d_un.d_val; break;
		case DT_RELA: rel[1] = (const void *)dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_RELASZ: relsz[1] = dyn->d_un.d_val; break;
		}
	}
	if (!symtab || !strtab)
		return 0;
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; rel[t] && i < relsz[t] / sizeof **rel; i++) {
			unsigned type = ELF64_R_TYPE(rel[t][i].r_info);
			if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
				continue;
			const ElfW(Sym) *sym = &symtab[ELF64_R_SYM(rel[t][i].r_info)];
			if (strcmp(strtab + sym->st_name, name) == 0)
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

static void add_start(struct scan *sc, uintptr_t call)
{
	void *start = sc->enclosing((void *)(call + 1));
	if (!start || sc->n == sc->max)
		return;
	for (int i = 0; i < sc->n; i++)
		if (sc->starts[i] == (uintptr_t)start)
			return;
	sc->starts[sc->n++] = (uintptr_t)start;
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
					add_start(sc, (uintptr_t)(b + i));
		} else if (b[i] == 0xff && b[i + 1] == 0x15 &&
			   (uintptr_t)(b + i + 6) + rel32(b + i + 2) == slot) {
			add_start(sc, (uintptr_t)(b + i)); /* -fno-plt call */
		}
	}
}

static int scan_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct scan *sc = data;
	if (!shim_object_named(info->dlpi_name, sc->prefix))
		return 0;
	for (int i = 0; i < nscanned; i++)
		if (scanned[i] == info->dlpi_addr)
			return 0;
	if (nscanned < (int)(sizeof scanned / sizeof *scanned))
		scanned[nscanned++] = info->dlpi_addr;
	uintptr_t slot = import_slot(info, "vfork");
	for (int i = 0; slot && i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && (ph->p_flags & PF_R))
			scan_segment(sc, (const unsigned char *)(info->dlpi_addr + ph->p_vaddr), ph->p_filesz, slot);
	}
	return 0;
}

int shim_vfork_callers(const char *prefix, uintptr_t *starts, int max, void *(*enclosing)(void *))
{
	struct scan sc = { prefix, starts, max, 0, enclosing };
	if (enclosing)
		dl_iterate_phdr(scan_object, &sc);
	return sc.n;
}

static int find_import(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	return import_slot(info, data) != 0;
}

bool shim_imported(const char *symbol)
{
	return dl_iterate_phdr(find_import, (void *)symbol) != 0;
}

#else

bool shim_imported(const char *symbol)
{
	(void)symbol;
	return true; /* cannot tell: assume it is */
}

int shim_vfork_callers(const char *prefix, uintptr_t *starts, int max, void *(*enclosing)(void *))
{
	(void)prefix, (void)starts, (void)max, (void)enclosing;
	return 0;
}

#endif
