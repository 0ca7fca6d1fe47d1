/* handoff.h: turning the loaded guest into what QEMU starts: the hand-off module, and the memory-map checks that must pass first. */
#ifndef KVMLOAD_HANDOFF_BUILD_H
#define KVMLOAD_HANDOFF_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "boot_regs.h"
#include "footprint.h"
#include "handoff_abi.h"
#include "gmem.h"

/* Where the entry stub (src/pvh) lives; pvh.ld asserts the image fits. */
#define HANDOFF_STUB_BASE  0x100000ULL
#define HANDOFF_STUB_LIMIT 0x102000ULL

/*
 * Below this, firmware (QEMU's pc machine with qboot) writes before the entry:
 * IVT, BDA, its stack, the PVH start info, the command line.  Every loader
 * byte down here travels in the module and is put back by the stub.
 */
#define HANDOFF_CARRY_LIMIT 0x9fc00ULL

struct handoff {
	int memfd;     /* the module, for -initrd /proc/self/fd/N; -1 when none */
	uint64_t size;
	uint64_t addr; /* where QEMU will place it */
	unsigned nchunks;
	uint64_t carried; /* loader bytes carried */
	int smap_trimmed; /* 1 when the SMAP's base-memory entry was cut at the EBDA */
};

/* Where QEMU's pc machine puts an -initrd of size bytes in lowmem bytes of low RAM. */
uint64_t handoff_module_addr(uint64_t lowmem, uint64_t size);

/*
 * Check the loaded guest against the firmware's layout and build the module:
 * the entry registers r, every byte of the loader's footprint fp below
 * HANDOFF_CARRY_LIMIT, and for the i386 entry the GDT it gets (written into
 * g here).  Refuses (-EINVAL, the range named in err) a footprint that meets
 * firmware data, the stub or the module, a SMAP that gives the kernel
 * firmware data as RAM, and long-mode page tables that do not map the stub.
 * The SMAP's 0-640 KiB entry is cut at the EBDA, where qboot keeps its MP
 * table (QEMU's own map says the same).  Returns 0 with h filled (h->memfd
 * is the caller's to close) or -errno.
 */
int handoff_build(struct handoff *h, const struct boot_regs *r, const struct footprint *fp,
		  struct gmem *g, char *err, size_t errlen);

#endif
