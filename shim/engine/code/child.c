/* The child's side of a fork call, for the runtimes' readers
 * (rt_cpython.c): where the child's code starts, and its first act,
 * read through the architecture's file (arch.h). */
#include "arch.h"
#include "lockfree.h"

#ifdef CODE_STEP

bool shim_code_child_tests_word(const struct shim_object *o, uintptr_t call, uintptr_t value, int32_t *disp,
				uintptr_t *differ)
{
	uint32_t written = 0, used = 0;
	uintptr_t start = code_child_entry(shim_call_end(call), o->text_start, o->text_end, &written, &used);
	return start && code_frame_word_test(o, start, o->text_end, value, disp, differ);
}

uintptr_t shim_call_target(uintptr_t call, uintptr_t hi)
{
	uintptr_t to, slot;
	return code_call(call, hi, &to, &slot) ? to : 0;
}

#else

bool shim_code_child_tests_word(const struct shim_object *o, uintptr_t call, uintptr_t value, int32_t *disp,
				uintptr_t *differ)
{
	(void)o, (void)call, (void)value, (void)disp, (void)differ;
	return false;
}

uintptr_t shim_call_target(uintptr_t call, uintptr_t hi)
{
	(void)call, (void)hi;
	return 0;
}

#endif
