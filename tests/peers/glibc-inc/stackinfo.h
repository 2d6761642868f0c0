/* Stand-in for glibc's internal <stackinfo.h> (tests/peers/glibc.sh). */
#define _STACK_GROWS_DOWN 1
