/* libFuzzer target: the VFORKSHIM_SITES parser.
 *
 * The input (up to its first NUL) is the list. shim_sites_parse must
 * take anything, and store exactly the entries a reference split
 * accepts: "sym" or "object:sym" (split at the first colon), each part
 * 1 to 127 bytes, in order, up to the table's 32; it returns how many. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/shim.h"

__thread struct shim_guard shim_guard; /* the child guard's, not linked */

#define MAX_SITES 32
#define PART_MAX 127

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *list = malloc(size + 1);
	memcpy(list, data, size);
	list[size] = '\0';
	shim_sites_reset();
	int accepted = shim_sites_parse(list);

	int want = 0;
	for (char *p = list, *end; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ',');
		char *colon = memchr(p, ':', (size_t)(end - p));
		size_t olen = colon ? (size_t)(colon - p) : 0;
		char *sym = colon ? colon + 1 : p;
		size_t slen = (size_t)(end - sym);
		if (slen == 0 || slen > PART_MAX || (colon && (olen == 0 || olen > PART_MAX)))
			continue;
		if (want == MAX_SITES)
			break;
		const char *o, *s;
		if (!shim_sites_entry(want, &o, &s) || strlen(o) != olen || memcmp(o, p, olen) ||
		    strlen(s) != slen || memcmp(s, sym, slen)) {
			fprintf(stderr, "entry %d not stored as given\n", want);
			abort();
		}
		want++;
	}
	const char *o, *s;
	if (accepted != want || shim_sites_entry(want, &o, &s)) {
		fprintf(stderr, "accepted %d, the reference %d\n", accepted, want);
		abort();
	}
	free(list);
	return 0;
}
