/* Whether this process can gain from the engine: decided once, in the
 * front's constructor, never at a fork (a dlopen there could wait for
 * ever on a loader lock another thread holds).
 *
 * The engine is loaded, VFORKSHIM on or not, for a value the engine
 * warns about: one the front cannot read, or an AUDIT or LOG_FILE path,
 * which the engine checks (its warning is the engine's to give, as it
 * always was). And it is loaded when VFORKSHIM is on and
 *   - the configuration asks for something only the engine does:
 *     VFORKSHIM_SITES, FORK=all or off, SPAWN=always or off, STATS, a
 *     LOG level (diagnostics need the engine's counts and decisions);
 *   - or the running libc's system and popen copy the address space
 *     (glibc before 2.29: engine/config.c), which `auto` reroutes;
 *   - or an object loaded at start defines a runtime's marker symbol
 *     (each runtime names its own in engine/runtimes/, SHIM_MARKERS);
 *   - or an object loaded at start can load more code later: it imports
 *     dlopen, dlmopen, dlsym, dlvsym or __libc_dlopen_mode.
 *
 * Why no site is missed. The engine reroutes a fork at a site only: a
 * user's (VFORKSHIM_SITES: the first rule) or a runtime's built-in one,
 * which lies in an object that defines one of that runtime's markers
 * (the engine looks nowhere else: engine/fork/sites.c, marked()). Such an
 * object was loaded at start (the marker rule) or later; and whatever is
 * loaded later is loaded by dlopen, called by code that was itself
 * loaded at start or loaded later, and so on back to an object loaded at
 * start that calls dlopen: the last rule. (dlopen's address got some
 * other way comes from dlsym, also named. glibc's own module loading,
 * NSS, iconv and libgcc_s, brings in no runtime.) Without a site, the
 * engine sends every fork to libc, which is what the front does.
 *
 * The environment is the one glibc hands every constructor (the third
 * argument, as elf/dl-init.c calls them), read as getenv reads it, the
 * first entry of a name winning. (In secure mode, AT_SECURE, the engine
 * reads none of it and stays inert; the loader preloads only set-uid
 * libraries of its own directories there, so the front is rarely even
 * loaded, and it does not look.) Nothing allocates. */
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

#include "front.h"
#include "../common/dynsym.h"
#include "../common/parse.h"

/* The runtimes' markers (engine/runtimes/rt_*.c, SHIM_MARKERS) with
 * their GNU hashes, gathered by the Makefile */
static const struct {
	const char *name;
	uint32_t hash;
} markers[] = {
#include "markers.inc"
};
#define NMARKERS (sizeof markers / sizeof *markers)

static const char *const loaders[] = { "dlopen", "dlmopen", "dlsym", "dlvsym", "__libc_dlopen_mode", NULL };

/* "NAME=value": the value if the entry is NAME's (n: strlen(name)) */
static const char *value_of(const char *entry, const char *name, size_t n)
{
	return strncmp(entry, name, n) == 0 && entry[n] == '=' ? entry + n + 1 : NULL;
}

enum { V_ON, V_FORK, V_SPAWN, V_LOG, V_MIN_RSS, V_STATS, V_SITES, V_AUDIT, V_LOG_FILE, V_COUNT };
#define NAME(s) { s, sizeof s - 1 }
static const struct {
	const char *s;
	size_t n;
} names[V_COUNT] = {
	NAME("VFORKSHIM"), NAME("VFORKSHIM_FORK"), NAME("VFORKSHIM_SPAWN"), NAME("VFORKSHIM_LOG"),
	NAME("VFORKSHIM_MIN_RSS"), NAME("VFORKSHIM_STATS"), NAME("VFORKSHIM_SITES"), NAME("VFORKSHIM_AUDIT"),
	NAME("VFORKSHIM_LOG_FILE"),
};

/* What a value asks of the engine: nothing (unset, or the default), to
 * act on it (where VFORKSHIM is on), or to look at it whatever VFORKSHIM
 * says (a value the engine warns about: engine/config.c reads every
 * variable, on or off, and warns of each bad one) */
enum ask { ASK_NOTHING, ASK_IF_ON, ASK_ALWAYS };

static enum ask engine_value(int k, const char *v)
{
	bool b;
	enum shim_fork_mode f;
	enum shim_spawn_mode s;
	enum shim_log_level l;
	unsigned long long size;
	if (!*v) /* empty counts as unset (engine/config.c) */
		return ASK_NOTHING;
	switch (k) {
	case V_ON: return shim_parse_bool_enable(v, &b) ? ASK_ALWAYS : ASK_NOTHING;
	case V_FORK: return shim_parse_fork_mode(v, &f) ? ASK_ALWAYS : f != FORK_SITES ? ASK_IF_ON : ASK_NOTHING;
	case V_SPAWN: return shim_parse_spawn_mode(v, &s) ? ASK_ALWAYS : s != SPAWN_AUTO ? ASK_IF_ON : ASK_NOTHING;
	case V_LOG: return shim_parse_log_level(v, &l) ? ASK_ALWAYS : l != LOG_WARN ? ASK_IF_ON : ASK_NOTHING;
	case V_MIN_RSS: return shim_parse_size(v, &size) ? ASK_ALWAYS : ASK_NOTHING;
	case V_STATS: return shim_parse_bool_enable(v, &b) ? ASK_ALWAYS : b ? ASK_IF_ON : ASK_NOTHING;
	case V_SITES: return ASK_IF_ON; /* read only where on (engine/fork/site_list.c) */
	default: return ASK_ALWAYS; /* AUDIT, LOG_FILE: the engine checks the path */
	}
}

struct scan {
	char *buf;
	size_t cap;
	bool found;
};

static void say(struct scan *s, const char *a, const char *b)
{
	size_t n = 0;
	for (const char *p = a; *p && n + 1 < s->cap; p++)
		s->buf[n++] = *p;
	for (const char *p = b; p && *p && n + 1 < s->cap; p++)
		s->buf[n++] = *p;
	s->buf[n] = '\0';
	s->found = true;
}

static const char *base_name(const char *path)
{
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			b = p + 1;
	return *b ? b : "the program";
}

/* glibc's own objects and the kernel's vDSO hold no runtime and load
 * nothing a runtime lives in (decide.c's header says why) */
static const char *const glibc_own[] = {
	/* glibc's libraries: before 2.34 libpthread imports
	 * __libc_dlopen_mode, for libgcc_s only */
	"libc.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libm.so.6", "libresolv.so.2",
	"libutil.so.1", "libanl.so.1", NULL,
};

static bool libc_own(const struct shim_dynsym *d)
{
	const char *n = d->soname;
	if (!n || n[0] != 'l') /* every name below starts so */
		return false;
	for (int i = 0; glibc_own[i]; i++)
		if (strcmp(n, glibc_own[i]) == 0)
			return true;
	return strncmp(n, "ld-linux", 8) == 0 || strncmp(n, "ld64.so", 7) == 0 ||
	       strncmp(n, "linux-vdso", 10) == 0 || strncmp(n, "linux-gate.so", 13) == 0;
}

/* A glibc older than 2.29: the newest GLIBC_2.N its libc defines, read
 * from its version definitions (which the loader has read already, to
 * check the program's needs: no page of libc's is touched anew) */
static const char *version_name(const struct shim_dynsym *d, const ElfW(Verdef) *v)
{
	const ElfW(Verdaux) *a = (const ElfW(Verdaux) *)((const char *)v + v->vd_aux);
	return v->vd_cnt && a->vda_name < d->strsz ? d->strtab + a->vda_name : "";
}

static bool old_glibc(const char *path, const struct shim_dynsym *d, void *arg)
{
	(void)path, (void)arg;
	if (!d->soname || strcmp(d->soname, "libc.so.6") != 0)
		return false;
	/* GLIBC_2.29 itself, by the hash each entry carries: the common case */
	uint32_t h = shim_dynsym_sysv_hash("GLIBC_2.29");
	const ElfW(Verdef) *v = d->verdef;
	for (size_t i = 0; v && i < d->verdefnum; i++) {
		if (v->vd_hash == h && strcmp(version_name(d, v), "GLIBC_2.29") == 0)
			return false;
		if (!v->vd_next)
			break;
		v = (const ElfW(Verdef) *)((const char *)v + v->vd_next);
	}
	/* else the newest GLIBC_2.N (an architecture younger than 2.29 has
	 * no GLIBC_2.29 node: its first version is newer) */
	unsigned newest = 0;
	v = d->verdef;
	for (size_t i = 0; v && i < d->verdefnum; i++) {
		const char *n = version_name(d, v);
		if (strncmp(n, "GLIBC_2.", 8) == 0) {
			unsigned minor = 0;
			for (n += 8; *n >= '0' && *n <= '9'; n++)
				minor = minor * 10 + (unsigned)(*n - '0');
			newest = minor > newest ? minor : newest;
		}
		if (!v->vd_next)
			break;
		v = (const ElfW(Verdef) *)((const char *)v + v->vd_next);
	}
	return newest && newest < 29;
}

/* An object that defines a marker, or imports a loader */
static bool runtime_or_loader(const char *path, const struct shim_dynsym *d, void *arg)
{
	struct scan *s = arg;
	if (libc_own(d))
		return false;
	for (size_t i = 0; i < NMARKERS; i++)
		if (shim_dynsym_find(d, markers[i].name, markers[i].hash, SHIM_SYM_FUNC | SHIM_SYM_IFUNC | SHIM_SYM_DATA)) {
			say(s, "a runtime's marker in ", base_name(path));
			return true;
		}
	uint32_t n = shim_dynsym_unhashed(d);
	for (uint32_t i = 1; i < n; i++) {
		const ElfW(Sym) *sym = &d->symtab[i];
		if (sym->st_shndx != SHN_UNDEF || sym->st_name >= d->strsz)
			continue;
		const char *name = d->strtab + sym->st_name;
		if (name[0] == 'd' ? name[1] != 'l' : !(name[0] == '_' && name[1] == '_' && name[2] == 'l'))
			continue; /* neither dl... nor __l... (read no further than the end) */
		for (int k = 0; loaders[k]; k++)
			if (strcmp(name, loaders[k]) == 0) {
				say(s, "code loaded later: dlopen imported by ", base_name(path));
				return true;
			}
	}
	return false;
}

const char *shim_front_why(char **env, char *buf, size_t cap, bool *on_out)
{
	const char *val[V_COUNT] = { NULL };
	bool any = false;
	for (char **e = env; e && *e; e++) {
		if ((*e)[0] != 'V' || strncmp(*e, "VFORKSHIM", 9) != 0)
			continue;
		for (int k = 0; k < V_COUNT; k++)
			if (!val[k] && (val[k] = value_of(*e, names[k].s, names[k].n)))
				any = true;
	}
	if (!any)
		return NULL;
	struct scan s = { buf, cap, false };
	bool on = false;
	if (val[V_ON] && *val[V_ON] && shim_parse_bool_enable(val[V_ON], &on))
		on = false;
	for (int k = 0; k < V_COUNT; k++) {
		enum ask a = val[k] ? engine_value(k, val[k]) : ASK_NOTHING;
		if (a == ASK_ALWAYS || (a == ASK_IF_ON && on)) {
			say(&s, "configured: ", names[k].s);
			return buf;
		}
	}
	if (!on)
		return NULL;
	*on_out = true;
	/* glibc before 2.29: system and popen fork (engine/config.c) */
	if (shim_front_each_object(old_glibc, NULL, FRONT_ALL)) {
		say(&s, "glibc's system and popen fork: glibc before 2.29", NULL);
		return buf;
	}
	if (shim_front_each_object(runtime_or_loader, &s, FRONT_ALL))
		return buf;
	return NULL;
}
