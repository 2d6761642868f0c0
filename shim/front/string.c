/* The few string functions the front and the shared code call, its own
 * and hidden: an import of libc's costs every process a symbol lookup
 * at start (-z now), and the front is loaded into every process a
 * drop-in starts. Plain loops: built with -fno-builtin and without loop
 * distribution, so that none becomes a call to itself. */
#include <stddef.h>

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

HIDDEN int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

HIDDEN int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

HIDDEN void *memset(void *p, int c, size_t n)
{
	unsigned char *d = p;
	while (n--)
		*d++ = (unsigned char)c;
	return p;
}

HIDDEN void *memcpy(void *to, const void *from, size_t n)
{
	unsigned char *d = to;
	const unsigned char *s = from;
	while (n--)
		*d++ = *s++;
	return to;
}
