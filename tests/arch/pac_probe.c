/* In the arm64 guest of make check-arch-runtimes: are return addresses
 * really signed here? pacia1716 (a hint: a no-op where pointer
 * authentication is off or absent) signs x17 with x16 as the modifier,
 * as paciasp signs x30 with sp; a signed pointer differs from the
 * address. Exit 0 and a line when it does. */
#include <stdio.h>

int main(void)
{
#if defined(__aarch64__)
	register unsigned long x17 __asm__("x17") = (unsigned long)&main;
	register unsigned long x16 __asm__("x16") = 0x1234;
	unsigned long address = x17;
	__asm__ volatile("hint #8" : "+r"(x17) : "r"(x16)); /* pacia1716 */
	if (x17 != address) {
		printf("PAC on: %#lx signed is %#lx\n", address, x17);
		return 0;
	}
#endif
	printf("PAC off: a signed pointer is its address\n");
	return 1;
}
