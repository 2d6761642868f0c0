/* The start of a function from its FDE (unwind.h): where the runtimes'
 * readers find the function around a call they found. */
#include "code.h"
#include "lockfree.h"

/* Arm's EHABI unwinder has no such lookup: 0 there. */
uintptr_t shim_function_start(uintptr_t pc)
{
#ifdef __ARM_EABI_UNWINDER__
	(void)pc;
	return 0;
#else
	return SHIM_CODE(_Unwind_FindEnclosingFunction((void *)pc));
#endif
}
