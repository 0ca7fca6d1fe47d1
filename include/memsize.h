/* memsize.h: what a guest memory size is, the one rule kvmload's -m and kvmload.conf's memory share. */
#ifndef KVMLOAD_MEMSIZE_H
#define KVMLOAD_MEMSIZE_H

#include <stdint.h>

#define MEMSIZE_MIN (2ULL << 20)
/* The most guest RAM kvmload maps: 64 TiB, well inside the 47-bit user address space of x86-64. */
#define MEMSIZE_MAX (1ULL << 46)
/* x86-64 hosts, the only ones kvmload runs on, have 4 KiB base pages; KVM memory slots need them. */
#define MEMSIZE_PAGE 4096ULL

/*
 * Parse a memory size the way bhyveload's vm_parse_memsize does: a bare
 * number below 1 MiB means MiB, a bare larger number means bytes, and a
 * K, M, G or T suffix (either case) scales by powers of 1024.  bhyveload's
 * P and E are not taken: 1P is beyond MEMSIZE_MAX already.  Syntax only;
 * see memsize_check.  Returns 0, or -EINVAL (not a size) / -ERANGE (does
 * not fit 64 bits).
 */
int memsize_parse(const char *s, uint64_t *out);

/*
 * Whether guest memory may have size bytes: at least MEMSIZE_MIN, whole
 * MEMSIZE_PAGE pages, at most MEMSIZE_MAX.  Returns 0, -EINVAL (too small
 * or not whole pages) or -ERANGE (too large).
 */
int memsize_check(uint64_t size);

/*
 * The memory-size rule of kvmload -m and of kvmload.conf's memory, so that
 * both programs accept the same values and reject the rest in the same
 * words: memsize_parse, then memsize_check.  Returns 0 with *out set, or
 * -EINVAL / -ERANGE with *why set to a static message naming the problem.
 */
int memsize_arg(const char *s, uint64_t *out, const char **why);

#endif
