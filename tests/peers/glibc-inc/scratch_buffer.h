/* Stand-in for glibc's internal <scratch_buffer.h>, for building glibc's
 * support/ library outside glibc's tree (tests/peers/glibc.sh): the same
 * interface, on malloc, without the GLIBC_PRIVATE helpers. */
#ifndef VFORKSHIM_SCRATCH_BUFFER_H
#define VFORKSHIM_SCRATCH_BUFFER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct scratch_buffer {
	void *data;
	size_t length;
	union {
		max_align_t __align;
		char __c[1024];
	} __space;
};

static inline void scratch_buffer_init(struct scratch_buffer *b)
{
	b->data = b->__space.__c;
	b->length = sizeof b->__space;
}

static inline void scratch_buffer_free(struct scratch_buffer *b)
{
	if (b->data != b->__space.__c)
		free(b->data);
}

/* Double the size, contents lost; false (buffer reset, freed) on failure. */
static inline bool scratch_buffer_grow(struct scratch_buffer *b)
{
	size_t n = b->length * 2;
	scratch_buffer_free(b);
	void *p = n > b->length ? malloc(n) : NULL;
	if (!p) {
		scratch_buffer_init(b);
		return false;
	}
	b->data = p;
	b->length = n;
	return true;
}

/* Double the size, contents kept. */
static inline bool scratch_buffer_grow_preserve(struct scratch_buffer *b)
{
	size_t n = b->length * 2;
	void *p = n > b->length ? malloc(n) : NULL;
	if (!p) {
		scratch_buffer_free(b);
		scratch_buffer_init(b);
		return false;
	}
	memcpy(p, b->data, b->length);
	scratch_buffer_free(b);
	b->data = p;
	b->length = n;
	return true;
}

/* At least nelem * size bytes, contents lost. */
static inline bool scratch_buffer_set_array_size(struct scratch_buffer *b, size_t nelem, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(nelem, size, &n)) {
		scratch_buffer_free(b);
		scratch_buffer_init(b);
		return false;
	}
	if (n <= b->length)
		return true;
	void *p = malloc(n);
	if (!p)
		return false;
	scratch_buffer_free(b);
	b->data = p;
	b->length = n;
	return true;
}
#endif
