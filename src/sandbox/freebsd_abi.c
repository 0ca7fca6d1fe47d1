/* freebsd_abi.c: translating Linux errno, mode, d_type, stat and whence into FreeBSD's numbering. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "freebsd_abi_xlate.h"

/*
 * Linux errno -> FreeBSD errno.  1..34 agree except 11; above that the two
 * systems number independently.  Entries left 0 have no FreeBSD counterpart
 * and become EIO.  Numbers without an FBSD_ constant carry FreeBSD's name.
 */
static const uint8_t errno_map[] = {
	[EPERM] = FBSD_EPERM, [ENOENT] = FBSD_ENOENT, [ESRCH] = 3 /* ESRCH */,
	[EINTR] = 4 /* EINTR */, [EIO] = FBSD_EIO, [ENXIO] = FBSD_ENXIO, [E2BIG] = FBSD_E2BIG,
	[ENOEXEC] = 8 /* ENOEXEC */, [EBADF] = FBSD_EBADF, [ECHILD] = 10 /* ECHILD */,
	[EAGAIN] = FBSD_EAGAIN, [ENOMEM] = FBSD_ENOMEM, [EACCES] = FBSD_EACCES,
	[EFAULT] = FBSD_EFAULT, [ENOTBLK] = 15 /* ENOTBLK */, [EBUSY] = FBSD_EBUSY,
	[EEXIST] = FBSD_EEXIST, [EXDEV] = FBSD_EXDEV, [ENODEV] = FBSD_ENODEV,
	[ENOTDIR] = FBSD_ENOTDIR, [EISDIR] = FBSD_EISDIR, [EINVAL] = FBSD_EINVAL,
	[ENFILE] = FBSD_ENFILE, [EMFILE] = FBSD_EMFILE, [ENOTTY] = FBSD_ENOTTY,
	[ETXTBSY] = 26 /* ETXTBSY */, [EFBIG] = FBSD_EFBIG, [ENOSPC] = FBSD_ENOSPC,
	[ESPIPE] = FBSD_ESPIPE, [EROFS] = FBSD_EROFS, [EMLINK] = FBSD_EMLINK,
	[EPIPE] = 32 /* EPIPE */, [EDOM] = 33 /* EDOM */, [ERANGE] = FBSD_ERANGE,
	[EDEADLK] = FBSD_EDEADLK, [ENAMETOOLONG] = FBSD_ENAMETOOLONG, [ENOLCK] = 77 /* ENOLCK */,
	[ENOSYS] = FBSD_ENOSYS, [ENOTEMPTY] = FBSD_ENOTEMPTY, [ELOOP] = FBSD_ELOOP,
	[ENOMSG] = 83 /* ENOMSG */, [EIDRM] = 82 /* EIDRM */, [ENODATA] = 87 /* ENOATTR */,
	[EREMOTE] = 71 /* EREMOTE */, [ENOLINK] = 91 /* ENOLINK */, [EPROTO] = 92 /* EPROTO */,
	[EMULTIHOP] = 90 /* EMULTIHOP */, [EBADMSG] = 89 /* EBADMSG */,
	[EOVERFLOW] = FBSD_EOVERFLOW, [EILSEQ] = 86 /* EILSEQ */, [EUSERS] = 68 /* EUSERS */,
	[ENOTSOCK] = 38 /* ENOTSOCK */, [EDESTADDRREQ] = 39 /* EDESTADDRREQ */,
	[EMSGSIZE] = 40 /* EMSGSIZE */, [EPROTOTYPE] = 41 /* EPROTOTYPE */,
	[ENOPROTOOPT] = 42 /* ENOPROTOOPT */, [EPROTONOSUPPORT] = 43 /* EPROTONOSUPPORT */,
	[ESOCKTNOSUPPORT] = 44 /* ESOCKTNOSUPPORT */, [EOPNOTSUPP] = FBSD_EOPNOTSUPP,
	[EPFNOSUPPORT] = 46 /* EPFNOSUPPORT */, [EAFNOSUPPORT] = 47 /* EAFNOSUPPORT */,
	[EADDRINUSE] = 48 /* EADDRINUSE */, [EADDRNOTAVAIL] = 49 /* EADDRNOTAVAIL */,
	[ENETDOWN] = 50 /* ENETDOWN */, [ENETUNREACH] = 51 /* ENETUNREACH */,
	[ENETRESET] = 52 /* ENETRESET */, [ECONNABORTED] = 53 /* ECONNABORTED */,
	[ECONNRESET] = 54 /* ECONNRESET */, [ENOBUFS] = 55 /* ENOBUFS */,
	[EISCONN] = 56 /* EISCONN */, [ENOTCONN] = 57 /* ENOTCONN */,
	[ESHUTDOWN] = 58 /* ESHUTDOWN */, [ETOOMANYREFS] = 59 /* ETOOMANYREFS */,
	[ETIMEDOUT] = 60 /* ETIMEDOUT */, [ECONNREFUSED] = 61 /* ECONNREFUSED */,
	[EHOSTDOWN] = 64 /* EHOSTDOWN */, [EHOSTUNREACH] = 65 /* EHOSTUNREACH */,
	[EALREADY] = 37 /* EALREADY */, [EINPROGRESS] = 36 /* EINPROGRESS */,
	[ESTALE] = 70 /* ESTALE */, [EDQUOT] = 69 /* EDQUOT */, [ECANCELED] = 85 /* ECANCELED */,
	[EOWNERDEAD] = 96 /* EOWNERDEAD */, [ENOTRECOVERABLE] = 95 /* ENOTRECOVERABLE */,
};

int freebsd_abi_errno(int linux_errno)
{
	if (linux_errno == 0)
		return 0;
	if (linux_errno < 0 || (size_t)linux_errno >= sizeof(errno_map) || !errno_map[linux_errno])
		return FBSD_EIO;
	return errno_map[linux_errno];
}

/* The file-type and permission bits are numbered alike on both systems: proven here, then copied. */
_Static_assert(S_IFMT == FBSD_S_IFMT, "S_IFMT");
_Static_assert(S_IFDIR == FBSD_S_IFDIR, "S_IFDIR");
_Static_assert(S_IFREG == FBSD_S_IFREG, "S_IFREG");
_Static_assert(S_IFLNK == FBSD_S_IFLNK, "S_IFLNK");
_Static_assert(S_IFIFO == 0010000 && S_IFCHR == 0020000 && S_IFBLK == 0060000 &&
	       S_IFSOCK == 0140000, "FreeBSD's remaining S_IF* values");

uint16_t freebsd_abi_mode(mode_t mode)
{
	return (uint16_t)(mode & (FBSD_S_IFMT | 07777));
}

uint8_t freebsd_abi_dtype(unsigned char d_type)
{
	switch (d_type) {
	case DT_FIFO: return FBSD_DT_FIFO;
	case DT_CHR: return FBSD_DT_CHR;
	case DT_DIR: return FBSD_DT_DIR;
	case DT_BLK: return FBSD_DT_BLK;
	case DT_REG: return FBSD_DT_REG;
	case DT_LNK: return FBSD_DT_LNK;
	case DT_SOCK: return FBSD_DT_SOCK;
	case DT_WHT: return FBSD_DT_WHT;
	default: return FBSD_DT_UNKNOWN;
	}
}

int freebsd_abi_whence(int fbsd_whence)
{
	switch (fbsd_whence) {
	case FBSD_SEEK_SET: return SEEK_SET;
	case FBSD_SEEK_CUR: return SEEK_CUR;
	case FBSD_SEEK_END: return SEEK_END;
	default: return -1;
	}
}

static struct fbsd_timespec ts_from(struct timespec t)
{
	struct fbsd_timespec r = { t.tv_sec, t.tv_nsec };
	return r;
}

void freebsd_abi_stat_new(const struct stat *st, struct fbsd_stat *out)
{
	memset(out, 0, sizeof(*out));
	out->st_dev = st->st_dev;
	out->st_ino = st->st_ino;
	out->st_nlink = st->st_nlink;
	out->st_mode = freebsd_abi_mode(st->st_mode);
	out->st_uid = st->st_uid;
	out->st_gid = st->st_gid;
	out->st_rdev = st->st_rdev;
	out->st_atim = ts_from(st->st_atim);
	out->st_mtim = ts_from(st->st_mtim);
	out->st_ctim = ts_from(st->st_ctim);
	out->st_size = st->st_size;
	out->st_blocks = st->st_blocks; /* 512-byte units on both systems */
	out->st_blksize = (int32_t)st->st_blksize;
}

void freebsd_abi_stat_old(const struct stat *st, int *mode, int *uid, int *gid, uint64_t *size)
{
	*mode = freebsd_abi_mode(st->st_mode);
	*uid = (int)st->st_uid;
	*gid = (int)st->st_gid;
	*size = (uint64_t)st->st_size;
}
