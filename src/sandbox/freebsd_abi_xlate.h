/* freebsd_abi_xlate.h: the one Linux-to-FreeBSD translation of errno, mode, d_type, stat and whence. */
#ifndef KVMLOAD_FREEBSD_ABI_XLATE_H
#define KVMLOAD_FREEBSD_ABI_XLATE_H

#include <stdint.h>
#include <sys/stat.h>

#include "freebsd_abi.h"

/* A positive Linux errno as FreeBSD numbers it; 0 stays 0, anything unknown becomes FBSD_EIO. */
int freebsd_abi_errno(int linux_errno);
/* Linux st_mode (type and permission bits) as FreeBSD's 16-bit st_mode. */
uint16_t freebsd_abi_mode(mode_t mode);
/* A Linux dirent d_type as FreeBSD's. */
uint8_t freebsd_abi_dtype(unsigned char d_type);
/* A FreeBSD lseek whence as Linux's, or -1 when it names no supported origin. */
int freebsd_abi_whence(int fbsd_whence);
/* Fill the ino64 struct stat the 12.2+ stat callback receives (zeroed first). */
void freebsd_abi_stat_new(const struct stat *st, struct fbsd_stat *out);
/* Fill the four values of the <= 12.1 stat callback. */
void freebsd_abi_stat_old(const struct stat *st, int *mode, int *uid, int *gid, uint64_t *size);

#endif
