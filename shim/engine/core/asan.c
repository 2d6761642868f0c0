/* Cooperation with AddressSanitizer, for programs (and our own tests)
 * built with it.
 *
 * ASan keeps a shadow byte for every 8 bytes of memory and poisons the
 * redzones around the locals of each instrumented frame while it runs.
 * A child that shares our memory writes that shadow too: the frames it
 * pushes on our stack leave poisoned bytes where the parent's frames
 * will be later, and an instrumented write there is reported as an
 * overflow that never happened. ASan's own vfork interceptor handles
 * this by unpoisoning the stack below the vfork call in the parent
 * (__asan_handle_vfork, compiler-rt asan_rtl.cpp). The rerouted fork
 * needs more: the child also returns through frames above the stub and
 * may poison them, so the parent puts back their shadow together with
 * the stack bytes the stub restores.
 *
 * The hooks are weak: in a program without ASan they are NULL and each
 * function below does nothing. */
#include <stdint.h>

#include "core.h"
#include "lockfree.h"

extern void __asan_get_shadow_mapping(uintptr_t *scale, uintptr_t *offset) __attribute__((weak));
extern void __asan_handle_vfork(void *sp) __attribute__((weak));
extern void __asan_unpoison_memory_region(const volatile void *p, size_t n) __attribute__((weak));

/* The shadow bytes of [lo, top), or 0 without ASan. */
size_t shim_asan_shadow_size(uintptr_t lo, uintptr_t top)
{
	if (!__asan_get_shadow_mapping)
		return 0;
	uintptr_t scale, offset;
	__asan_get_shadow_mapping(&scale, &offset);
	return ((top - 1) >> scale) - (lo >> scale) + 1;
}

/* Not instrumented, and byte by byte through volatile pointers so the
 * compiler cannot make a memcpy call of the loop: ASan's memcpy would
 * check the shadow of the shadow, which is an unmapped gap. */
__attribute__((no_sanitize_address)) static unsigned char *shadow_of(uintptr_t a)
{
	uintptr_t scale, offset;
	__asan_get_shadow_mapping(&scale, &offset);
	return (unsigned char *)((a >> scale) + offset);
}

__attribute__((no_sanitize_address)) void shim_asan_save(uintptr_t lo, uintptr_t top, void *to)
{
	size_t n = shim_asan_shadow_size(lo, top);
	volatile unsigned char *s = n ? shadow_of(lo) : NULL, *d = to;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
}

/* In the parent, once the child has exec'd or exited: [lo, top) as it
 * was before the clone, everything below lo (the child's deeper frames)
 * unpoisoned. */
__attribute__((no_sanitize_address)) void shim_asan_restore(uintptr_t lo, uintptr_t top, const void *from)
{
	size_t n = shim_asan_shadow_size(lo, top);
	if (!n)
		return;
	volatile unsigned char *d = shadow_of(lo);
	const volatile unsigned char *s = from;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
	if (__asan_handle_vfork)
		__asan_handle_vfork((void *)lo);
}

/* Memory about to be unmapped that a child used as its stack: its
 * shadow must not poison whatever is mapped there next. */
void shim_asan_unpoison(void *p, size_t n)
{
	if (__asan_unpoison_memory_region)
		__asan_unpoison_memory_region(p, n);
}
