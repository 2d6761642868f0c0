/* The name of an errno value, as strerrorname_np (glibc 2.32) gives it,
 * for the test programs that print results to compare: they build on
 * glibc 2.31 too. Names of the values these tests can meet; any other
 * prints as its number. */
#ifndef VFORKSHIM_ERRNAME_H
#define VFORKSHIM_ERRNAME_H

#include <errno.h>

static inline const char *errname(int e)
{
	static const struct { int e; const char *n; } t[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" }, { EINTR, "EINTR" },
		{ EIO, "EIO" }, { ENXIO, "ENXIO" }, { E2BIG, "E2BIG" }, { ENOEXEC, "ENOEXEC" },
		{ EBADF, "EBADF" }, { ECHILD, "ECHILD" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
		{ EXDEV, "EXDEV" }, { ENODEV, "ENODEV" }, { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" },
		{ EINVAL, "EINVAL" }, { ENFILE, "ENFILE" }, { EMFILE, "EMFILE" }, { ENOTTY, "ENOTTY" },
		{ ETXTBSY, "ETXTBSY" }, { EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" }, { ESPIPE, "ESPIPE" },
		{ EROFS, "EROFS" }, { EMLINK, "EMLINK" }, { EPIPE, "EPIPE" }, { EDOM, "EDOM" },
		{ ERANGE, "ERANGE" }, { ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" },
		{ ELOOP, "ELOOP" }, { EOVERFLOW, "EOVERFLOW" }, { ENOBUFS, "ENOBUFS" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { ESTALE, "ESTALE" }, { ECANCELED, "ECANCELED" },
	};
	static char buf[16];
	for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].e == e)
			return t[i].n;
	int n = e, k = sizeof buf - 1;
	buf[k] = '\0';
	do
		buf[--k] = (char)('0' + (n < 0 ? -(n % 10) : n % 10));
	while ((n /= 10) && k > 1);
	buf[--k] = 'E';
	return buf + k;
}

#endif
