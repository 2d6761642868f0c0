/* A loaded object's own dynamic symbol table, read the way the dynamic
 * loader reads it, but without the loader: no dlopen, dlsym or dladdr,
 * which take the loader's lock (held by a thread that runs a plugin's
 * constructor or destructor for as long as that code likes).
 *
 * Used only inside a dl_iterate_phdr callback: while it runs, the
 * object cannot be unmapped (glibc's dlclose removes an object from the
 * list under the same lock before it unmaps it), so every pointer here
 * stays valid. Nothing allocates. */
#include <elf.h>
#include <link.h>
#include <string.h>

#include "code.h"
#include "lockfree.h"

#if __SIZEOF_POINTER__ == 8
#define SYM_TYPE ELF64_ST_TYPE
#else
#define SYM_TYPE ELF32_ST_TYPE
#endif

bool shim_object_init(struct shim_object *o, const struct dl_phdr_info *info, const char *program)
{
	memset(o, 0, sizeof *o);
	o->info = info;
	o->path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : program;
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			uintptr_t a = info->dlpi_addr + ph->p_vaddr;
			if (!o->text_start || a < o->text_start)
				o->text_start = a;
			if (a + ph->p_memsz > o->text_end)
				o->text_end = a + ph->p_memsz;
		}
	}
	if (!shim_dynsym_init(&o->sym, info->dlpi_addr, dyn))
		return false;
	o->soname = o->sym.soname;
	return true;
}

static const ElfW(Sym) *find(const struct shim_object *o, const char *name, unsigned type)
{
	return shim_dynsym_find(&o->sym, name, shim_dynsym_hash(name), 1u << type);
}

static bool lookup(const struct shim_object *o, const char *name, unsigned type,
		   uintptr_t *start, size_t *size)
{
	const ElfW(Sym) *s = find(o, name, type);
	if (!s)
		return false;
	*start = o->info->dlpi_addr + s->st_value;
	*size = s->st_size;
	return true;
}

/* A function: [start, start + size). */
bool shim_object_sym(const struct shim_object *o, const char *name, uintptr_t *start, size_t *size)
{
	if (!lookup(o, name, STT_FUNC, start, size))
		return false;
	*start = SHIM_CODE(*start);
	if (!*size)
		*size = 1;
	return true;
}

/* A function to call (libuv's uv_version): its address as a pointer to
 * call, the Thumb bit kept on Arm. */
void *shim_object_callable(const struct shim_object *o, const char *name)
{
	uintptr_t start;
	size_t size;
	return lookup(o, name, STT_FUNC, &start, &size) ? (void *)start : NULL;
}

/* A data object (Perl's op tables, say). */
bool shim_object_data(const struct shim_object *o, const char *name, uintptr_t *start, size_t *size)
{
	return lookup(o, name, STT_OBJECT, start, size);
}

/* A function or a variable */
bool shim_object_defines(const struct shim_object *o, const char *name)
{
	return shim_dynsym_find(&o->sym, name, shim_dynsym_hash(name),
				SHIM_SYM_FUNC | SHIM_SYM_IFUNC | SHIM_SYM_DATA) != NULL;
}

/* Does the object refer to `name` in a dynamic relocation (a function
 * it calls in another object: `__register_atfork` for pthread_atfork)?
 * If so, *where (when not NULL) is the address the first such
 * relocation fills: for a function called through the PLT, its GOT
 * slot. REL or RELA, whichever the architecture uses. */
#if __SIZEOF_POINTER__ == 8
#define REL_SYM ELF64_R_SYM
#else
#define REL_SYM ELF32_R_SYM
#endif
static bool named(const struct shim_object *o, size_t symidx, const char *name)
{
	const ElfW(Sym) *sym = &o->sym.symtab[symidx];
	return sym->st_name < o->sym.strsz && strcmp(o->sym.strtab + sym->st_name, name) == 0;
}

bool shim_object_reloc(const struct shim_object *o, const char *name, uintptr_t *where)
{
	const struct dl_phdr_info *info = o->info;
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!dyn || !o->sym.symtab)
		return false;
	uintptr_t jmprel = 0, rela = 0, rel = 0;
	size_t jmprelsz = 0, relasz = 0, relsz = 0;
	bool plt_rela = true;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL: jmprel = shim_dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: jmprelsz = dyn->d_un.d_val; break;
		case DT_PLTREL: plt_rela = dyn->d_un.d_val == DT_RELA; break;
		case DT_RELA: rela = shim_dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr); break;
		case DT_RELASZ: relasz = dyn->d_un.d_val; break;
		case DT_REL: rel = shim_dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr); break;
		case DT_RELSZ: relsz = dyn->d_un.d_val; break;
		}
	}
	/* the PLT's table (REL or RELA), then the object's other ones */
	struct { uintptr_t at; size_t size; bool is_rela; } t[3] = {
		{ jmprel, jmprelsz, plt_rela }, { rela, relasz, true }, { rel, relsz, false },
	};
	for (int k = 0; k < 3; k++) {
		size_t entry = t[k].is_rela ? sizeof(ElfW(Rela)) : sizeof(ElfW(Rel));
		for (size_t i = 0; t[k].at && i < t[k].size / entry; i++) {
			/* r_offset, then r_info, in both forms */
			const ElfW(Rel) *e = (const ElfW(Rel) *)(t[k].at + i * entry);
			if (REL_SYM(e->r_info) && named(o, REL_SYM(e->r_info), name)) {
				if (where)
					*where = info->dlpi_addr + e->r_offset;
				return true;
			}
		}
	}
	return false;
}

bool shim_object_references(const struct shim_object *o, const char *name)
{
	return shim_object_reloc(o, name, NULL);
}

/* Is the object `o` the one named `name`: its path when `name` has a
 * slash, else its file name or its soname; `prefix` accepts the start
 * of a file name ("libruby" for libruby-3.1.so.3.1). */
/* LIST: names separated by '|', each a file name or soname; one that
 * ends in '*' matches by prefix ("libuv.so.*"). No allocation. */
bool shim_object_named(const struct shim_object *o, const char *list)
{
	char one[64];
	for (const char *p = list; *p;) {
		size_t n = 0;
		while (p[n] && p[n] != '|')
			n++;
		if (n > 0 && n < sizeof one) {
			memcpy(one, p, n);
			one[n] = '\0';
			bool prefix = one[n - 1] == '*';
			if (prefix)
				one[n - 1] = '\0';
			if (shim_object_is(o, one, prefix))
				return true;
		}
		p += n + (p[n] == '|');
	}
	return false;
}

bool shim_object_is(const struct shim_object *o, const char *name, bool prefix)
{
	if (!o->path)
		return false;
	if (strchr(name, '/'))
		return strcmp(o->path, name) == 0;
	const char *base = strrchr(o->path, '/');
	base = base ? base + 1 : o->path;
	size_t n = strlen(name);
	if (prefix)
		return strncmp(base, name, n) == 0 || (o->soname && strncmp(o->soname, name, n) == 0);
	return strcmp(base, name) == 0 || (o->soname && strcmp(o->soname, name) == 0);
}

/* Is [a, a + len) inside one of the object's loaded, readable segments? */
bool shim_object_mapped(const struct shim_object *o, uintptr_t a, size_t len)
{
	const struct dl_phdr_info *info = o->info;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t s = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) && a >= s && a + len >= a && a + len <= s + ph->p_memsz)
			return true;
	}
	return false;
}

/* Does `a` lie among the object's exported functions named `prefix`...:
 * is the nearest such function that starts at or below it, and the
 * nearest that starts above it, of that name? (The code of a library
 * linked into a bigger object lies together; a function of another
 * library between the two would name itself.) */
bool shim_object_among(const struct shim_object *o, const char *prefix, uintptr_t a)
{
	uint32_t n = shim_dynsym_count(&o->sym);
	size_t plen = strlen(prefix);
	uintptr_t below = 0, above = UINTPTR_MAX;
	bool below_ours = false, above_ours = false;
	for (uint32_t i = 0; i < n; i++) {
		const ElfW(Sym) *s = &o->sym.symtab[i];
		if (s->st_shndx == SHN_UNDEF || !s->st_value || SYM_TYPE(s->st_info) != STT_FUNC ||
		    s->st_name >= o->sym.strsz)
			continue;
		uintptr_t f = o->info->dlpi_addr + s->st_value;
		bool ours = strncmp(o->sym.strtab + s->st_name, prefix, plen) == 0;
		if (f <= a && f >= below) {
			below_ours = f == below ? below_ours && ours : ours;
			below = f;
		} else if (f > a && f <= above) {
			above_ours = f == above ? above_ours && ours : ours;
			above = f;
		}
	}
	return below && below_ours && above != UINTPTR_MAX && above_ours;
}

/* The object's GNU build-id (a hash of its contents, PT_NOTE), or false */
bool shim_object_build_id(const struct shim_object *o, const unsigned char **id, size_t *len)
{
	const struct dl_phdr_info *info = o->info;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const unsigned char *name = p + sizeof *n;
			const unsigned char *desc = name + ((n->n_namesz + 3) & ~3u);
			if (desc + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp(name, "GNU", 4) && n->n_descsz) {
				*id = desc;
				*len = n->n_descsz;
				return true;
			}
			p = desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	return false;
}

extern char **environ;

/* Is the word at `at` environ, or one of the object's words that holds
 * its address (a GOT slot of environ, __environ or _environ: the
 * aliases are one word)? For the machine-code readers. */
bool shim_object_environ_word(const struct shim_object *o, uintptr_t at)
{
	uintptr_t word; /* memcpy: a scan's `at` can be any address */
	if (at == (uintptr_t)&environ)
		return true;
	if (!shim_object_mapped(o, at, sizeof word))
		return false;
	memcpy(&word, (const void *)at, sizeof word);
	return word == (uintptr_t)&environ;
}

#if defined(__x86_64__)
/* Is the 4-byte value v anywhere in [b, b + len)? memchr on its rarest
 * byte in a sample of the code, then the whole value at its offset. */
static bool holds4(const unsigned char *b, size_t len, uint32_t v)
{
	unsigned char want[4];
	memcpy(want, &v, 4);
	unsigned count[4] = { 0, 0, 0, 0 };
	for (size_t k = 0; k < len && k < 65536; k++)
		for (int j = 0; j < 4; j++)
			count[j] += b[k] == want[j];
	int r = 0;
	for (int j = 1; j < 4; j++)
		if (count[j] < count[r])
			r = j;
	for (const unsigned char *p = b + r; len >= 4 && p < b + len - 3 + r &&
					     (p = memchr(p, want[r], (size_t)(b + len - 3 + r - p)));
	     p++)
		if (!memcmp(p - r, want, 4))
			return true;
	return false;
}
#endif

/* The address of one of the targets held anywhere in the object's
 * memory: an aligned word of data (a pointer to the function), or, in an
 * x86_64 program not built position-independent, a 4-byte `mov $imm` of
 * it in code. A call through it is not seen. */
bool shim_object_holds_address(const struct shim_object *o, const uintptr_t *to, int nto)
{
	const struct dl_phdr_info *info = o->info;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R))
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_flags & PF_X) {
#if defined(__x86_64__)
			for (int t = 0; t < nto && info->dlpi_addr == 0; t++)
				if (to[t] >> 32 == 0 && holds4((const unsigned char *)a, ph->p_filesz, (uint32_t)to[t]))
					return true;
#endif
			continue;
		}
		const uintptr_t *w = (const uintptr_t *)((a + 7) & ~(uintptr_t)7);
		const uintptr_t *end = (const uintptr_t *)((a + ph->p_filesz) & ~(uintptr_t)7);
		for (; w < end; w++)
			for (int t = 0; t < nto; t++)
				if (*w == to[t])
					return true;
	}
	return false;
}
