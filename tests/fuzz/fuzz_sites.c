/* libFuzzer target: the VFORKSHIM_SITES parser.
 *
 * The input (up to its first NUL) is the list. shim_sites_parse must
 * take anything, and store exactly the entries a reference split
 * accepts: [object:]symbol[/depth] (split at the first colon, then at
 * the first slash after it), each name 1 to 127 bytes, the depth 1 to
 * 16 without a leading zero, in order, up to the list's 32; it returns
 * how many. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/engine/core/core.h"
#include "../../shim/engine/fork/fork.h"

/* proc.c, not linked: one process, never a copy */
static int one = 1;
int *shim_proc_marker = &one;
pid_t shim_proc_pid;
unsigned shim_proc_gen = 1;
void shim_proc_renew(void) {}

static int ref_depth(const char *s, size_t n)
{
	if (n == 0 || n > 2 || s[0] == '0')
		return -1;
	int d = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = d * 10 + s[i] - '0';
	}
	return d <= 16 ? d : -1;
}

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
		char *slash = memchr(sym, '/', (size_t)(end - sym));
		size_t slen = (size_t)((slash ? slash : end) - sym);
		int depth = slash ? ref_depth(slash + 1, (size_t)(end - slash - 1)) : 1;
		if (depth < 0 || slen == 0 || slen > PART_MAX || (colon && (olen == 0 || olen > PART_MAX)))
			continue;
		if (want == MAX_SITES)
			break;
		const char *o, *s;
		int d;
		if (!shim_sites_entry(want, &o, &s, &d) || strlen(o) != olen || memcmp(o, p, olen) ||
		    strlen(s) != slen || memcmp(s, sym, slen) || d != depth) {
			fprintf(stderr, "entry %d not stored as given\n", want);
			abort();
		}
		want++;
	}
	const char *o, *s;
	int d;
	if (accepted != want || shim_sites_entry(want, &o, &s, &d)) {
		fprintf(stderr, "accepted %d, the reference %d\n", accepted, want);
		abort();
	}
	free(list);
	return 0;
}
