/* An object's dynamic symbol table (dynsym.h). The lookup follows the
 * ELF gABI's SysV hash and the GNU hash as glibc's dl-lookup.c reads
 * them: the Bloom filter first, then the bucket's chain, whose last
 * entry has bit 0 set. */
#include <elf.h>
#include <string.h>

#include "dynsym.h"
#include "lockfree.h"

#if __SIZEOF_POINTER__ == 8
#define BLOOM_BITS 64
#define SYM_TYPE ELF64_ST_TYPE
#else
#define BLOOM_BITS 32
#define SYM_TYPE ELF32_ST_TYPE
#endif

uintptr_t shim_dyn_ptr(uintptr_t base, ElfW(Addr) v)
{
	return v < base ? base + v : v;
}

bool shim_dynsym_init(struct shim_dynsym *d, uintptr_t base, const ElfW(Dyn) *dyn)
{
	memset(d, 0, sizeof *d);
	d->base = base;
	if (!dyn)
		return false;
	ElfW(Addr) soname = 0;
	bool has_soname = false;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: d->symtab = (const void *)shim_dyn_ptr(base, dyn->d_un.d_ptr); break;
		case DT_STRTAB: d->strtab = (const void *)shim_dyn_ptr(base, dyn->d_un.d_ptr); break;
		case DT_STRSZ: d->strsz = dyn->d_un.d_val; break;
		case DT_GNU_HASH: d->gnu_hash = (const void *)shim_dyn_ptr(base, dyn->d_un.d_ptr); break;
		case DT_HASH: d->sysv_hash = (const void *)shim_dyn_ptr(base, dyn->d_un.d_ptr); break;
		case DT_VERSYM: d->versym = (const void *)shim_dyn_ptr(base, dyn->d_un.d_ptr); break;
		case DT_SONAME: soname = dyn->d_un.d_val; has_soname = true; break;
		case DT_VERDEF: d->verdef = (const void *)shim_dyn_ptr(base, dyn->d_un.d_ptr); break;
		case DT_VERDEFNUM: d->verdefnum = dyn->d_un.d_val; break;
		}
	}
	if (!d->symtab || !d->strtab || !(d->gnu_hash || d->sysv_hash))
		return false;
	if (has_soname && soname < d->strsz)
		d->soname = d->strtab + soname;
	return true;
}

uint32_t shim_dynsym_hash(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

uint32_t shim_dynsym_sysv_hash(const char *s)
{
	uint32_t h = 0;
	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		uint32_t g = h & 0xf0000000u;
		h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/* A definition of `name` of one of `types`, not a hidden version
 * (versym bit 15: an old version kept for old binaries) */
static bool is(const struct shim_dynsym *d, uint32_t i, const char *name, unsigned types)
{
	const ElfW(Sym) *s = &d->symtab[i];
	return s->st_shndx != SHN_UNDEF && s->st_value && (types & (1u << SYM_TYPE(s->st_info))) &&
	       !(d->versym && (d->versym[i] & 0x8000)) &&
	       s->st_name < d->strsz && strcmp(d->strtab + s->st_name, name) == 0;
}

const ElfW(Sym) *shim_dynsym_find(const struct shim_dynsym *d, const char *name, uint32_t hash,
				  unsigned types)
{
	if (d->gnu_hash) {
		const uint32_t *h = d->gnu_hash;
		uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2], shift = h[3];
		const ElfW(Addr) *bloom = (const ElfW(Addr) *)&h[4];
		const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
		const uint32_t *chain = &buckets[nbuckets];
		if (!nbuckets || !bloom_size)
			return NULL;
		ElfW(Addr) word = bloom[(hash / BLOOM_BITS) % bloom_size];
		ElfW(Addr) mask = ((ElfW(Addr))1 << (hash % BLOOM_BITS)) |
				  ((ElfW(Addr))1 << ((hash >> shift) % BLOOM_BITS));
		if ((word & mask) != mask)
			return NULL;
		uint32_t i = buckets[hash % nbuckets];
		if (i < symoffset)
			return NULL;
		for (;; i++) {
			uint32_t h2 = chain[i - symoffset];
			if ((hash | 1) == (h2 | 1) && is(d, i, name, types))
				return &d->symtab[i];
			if (h2 & 1)
				return NULL;
		}
	}
	const ElfW(Word) *h = d->sysv_hash;
	ElfW(Word) nbucket = h[0];
	const ElfW(Word) *bucket = &h[2], *chain = &bucket[nbucket];
	if (!nbucket)
		return NULL;
	for (ElfW(Word) i = bucket[shim_dynsym_sysv_hash(name) % nbucket]; i; i = chain[i])
		if (is(d, i, name, types))
			return &d->symtab[i];
	return NULL;
}

/* DT_HASH says it; with DT_GNU_HASH alone, the end of the last chain */
uint32_t shim_dynsym_count(const struct shim_dynsym *d)
{
	if (d->sysv_hash)
		return d->sysv_hash[1];
	const uint32_t *h = d->gnu_hash;
	uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
	const uint32_t *buckets = (const uint32_t *)&((const ElfW(Addr) *)&h[4])[bloom_size];
	const uint32_t *chain = &buckets[nbuckets];
	uint32_t last = 0;
	for (uint32_t i = 0; i < nbuckets; i++)
		if (buckets[i] > last)
			last = buckets[i];
	if (last < symoffset)
		return symoffset;
	while (!(chain[last - symoffset] & 1))
		last++;
	return last + 1;
}

uint32_t shim_dynsym_unhashed(const struct shim_dynsym *d)
{
	return d->gnu_hash ? d->gnu_hash[1] : shim_dynsym_count(d);
}
