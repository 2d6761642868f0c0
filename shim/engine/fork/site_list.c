/* VFORKSHIM_SITES: the user's own exec-bound sites, parsed once at
 * start-up (sites.c puts them in the table).
 *
 * An entry is [object:]symbol[/depth]:
 *   - symbol: an exported function whose own call to fork() is
 *     exec-bound (docs/sites.md, "Adding a site");
 *   - object: the loaded object that defines it, by file name, soname
 *     or, with a slash, path; without it, any object;
 *   - depth: how many frames above fork() the function may be, every
 *     frame in between in the same object (1, the default: the function
 *     calls fork() itself; at most SHIM_MAX_SITE_DEPTH).
 * Bad entries are skipped and so are entries beyond the list's 32;
 * either way one warning line in all, however long the list. */
#include <string.h>

#include "fork.h"
#include "lockfree.h"

#define MAX_USER 32

static struct shim_user_site user[MAX_USER];
static int nuser;

int shim_user_sites(void)
{
	return nuser;
}

struct shim_user_site *shim_user_site(int i)
{
	return &user[i];
}

/* For the unit tests and the fuzzer: forget every entry; read one back. */
void shim_sites_reset(void)
{
	nuser = 0;
}

bool shim_sites_entry(int i, const char **object, const char **symbol, int *depth)
{
	if (i < 0 || i >= nuser)
		return false;
	*object = user[i].object;
	*symbol = user[i].symbol;
	*depth = user[i].depth;
	return true;
}

/* "/N": N from 1 to SHIM_MAX_SITE_DEPTH, no leading zero; -1 if not */
static int parse_depth(const char *s, size_t n)
{
	if (n < 1 || n > 2 || s[0] < '1' || s[0] > '9' || (n == 2 && (s[1] < '0' || s[1] > '9')))
		return -1;
	int d = n == 2 ? (s[0] - '0') * 10 + s[1] - '0' : s[0] - '0';
	return d <= SHIM_MAX_SITE_DEPTH ? d : -1;
}

static bool parse_one(const char *s, size_t n, struct shim_user_site *u)
{
	const char *colon = memchr(s, ':', n);
	const char *sym = colon ? colon + 1 : s, *end = s + n;
	const char *slash = memchr(sym, '/', (size_t)(end - sym));
	size_t object_len = colon ? (size_t)(colon - s) : 0;
	size_t symbol_len = (size_t)((slash ? slash : end) - sym);
	int depth = slash ? parse_depth(slash + 1, (size_t)(end - slash - 1)) : 1;
	/* each part must fit its field whole: a cut name could match
	 * some other symbol */
	if (depth < 0 || symbol_len == 0 || symbol_len >= sizeof u->symbol ||
	    (colon && (object_len == 0 || object_len >= sizeof u->object)))
		return false;
	memset(u, 0, sizeof *u);
	memcpy(u->object, s, object_len);
	memcpy(u->symbol, sym, symbol_len);
	u->depth = (unsigned char)depth;
	shim_format(u->label, sizeof u->label, "%s%s%s", u->object, colon ? ":" : "", u->symbol);
	return true;
}

/* Returns the number of entries accepted. */
int shim_sites_parse(const char *list)
{
	int accepted = 0, invalid = 0, first_invalid = 0, full = 0, entry_no = 0;
	while (list && *list) {
		const char *end = strchrnul(list, ',');
		struct shim_user_site u;
		entry_no++;
		if (!parse_one(list, (size_t)(end - list), &u)) {
			if (!invalid++)
				first_invalid = entry_no;
		} else if (nuser == MAX_USER) {
			full++;
		} else {
			user[nuser++] = u;
			accepted++;
		}
		list = *end ? end + 1 : end;
	}
	if (invalid || full)
		shim_log(LOG_WARN, "VFORKSHIM_SITES: %d entries not valid (the first is entry %d; accepted: [object:]symbol[/depth], each name 1 to 127 bytes, depth 1 to %d) and %d beyond the limit of %d sites; skipped",
			 invalid, first_invalid, SHIM_MAX_SITE_DEPTH, full, MAX_USER);
	return accepted;
}
