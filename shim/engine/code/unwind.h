/* Reading frames with libgcc's unwinder (linked into the engine,
 * hidden: fork/walk.c says why), the same way on every architecture. */
#ifndef VFORKSHIM_UNWIND_H
#define VFORKSHIM_UNWIND_H

#include <stdint.h>
#include <unwind.h>

#ifdef __ARM_EABI_UNWINDER__
/* The Arm EHABI unwinder has no _Unwind_GetIP function (a macro over
 * _Unwind_VRS_Get in libgcc's unwind-arm-common.h) and its
 * _Unwind_GetCFA gave 3, not an address, in the backtrace callback.
 * pc is r15 less the Thumb bit; the frame's sp (r13) is the bottom of
 * the frame, as the CFA is elsewhere. EHABI marks no signal frames. */
static inline uint32_t arm_core_reg(struct _Unwind_Context *ctx, uint32_t regno)
{
	uint32_t v = 0;
	_Unwind_VRS_Get(ctx, _UVRSC_CORE, regno, _UVRSD_UINT32, &v);
	return v;
}
#define FRAME_IP(ctx, sig) (*(sig) = 0, (uintptr_t)(arm_core_reg(ctx, 15) & ~(uint32_t)1))
#define FRAME_CFA(ctx) ((uintptr_t)arm_core_reg(ctx, 13))
#else
#define FRAME_IP(ctx, sig) ((uintptr_t)_Unwind_GetIPInfo(ctx, sig))
#define FRAME_CFA(ctx) ((uintptr_t)_Unwind_GetCFA(ctx))
#endif

/* The start of the function around `pc`, by its FDE; 0 when unknown
 * (unwind.c) */
uintptr_t shim_function_start(uintptr_t pc);

#endif
