/* handoff.h: turning the loaded guest into what QEMU's firmware enters: the hand-off module and the stub in guest memory, and the memory-map checks that must pass first. */
#ifndef KVMLOAD_HANDOFF_BUILD_H
#define KVMLOAD_HANDOFF_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "boot_regs.h"
#include "footprint.h"
#include "handoff_abi.h"
#include "gmem.h"

struct handoff {
	uint64_t size;    /* bytes of the module, at HANDOFF_MODULE_BASE */
	unsigned nchunks;
	uint64_t carried; /* loader bytes carried */
	int smap_trimmed; /* 1 when the SMAP's base-memory entry was cut at the EBDA */
};

/* The entry stub's image as QEMU loads it (-kernel, its ELF's loadable segments): what kvmload puts back. */
struct handoff_stub {
	uint8_t image[HANDOFF_STUB_LIMIT - HANDOFF_STUB_BASE]; /* guest memory from HANDOFF_STUB_BASE */
};

/*
 * Read the stub (kvmload-pvh.elf, the file QEMU gets as -kernel) from fd:
 * an ELF32 for i386 whose loadable segments lie within [HANDOFF_STUB_BASE,
 * HANDOFF_STUB_LIMIT), by physical address as QEMU loads them, each file
 * byte in the file.  0, or -ENOEXEC / -errno with err naming what is wrong.
 */
int handoff_stub_read(struct handoff_stub *st, int fd, char *err, size_t errlen);

/*
 * Check the loaded guest against the firmware's layout and write the hand-off
 * into guest memory: the module at HANDOFF_MODULE_BASE (the entry registers
 * r, every byte of the loader's footprint fp below HANDOFF_CARRY_LIMIT, and
 * for the i386 entry the GDT it gets, written into g here) and the stub's
 * image at HANDOFF_STUB_BASE.  QEMU wrote the stub there too when it started,
 * but QEMU may have started before the loader ran, and a swap clears guest
 * memory: so kvmload puts it back, last.  Refuses (-EINVAL, the range named
 * in err) a footprint that meets firmware data, the stub or the module, a
 * SMAP that gives the kernel firmware data as RAM, long-mode page tables that
 * do not map the stub, and low memory too small to hold stub and module.  The
 * SMAP's 0-640 KiB entry is cut at the EBDA, where qboot keeps its MP table
 * (QEMU's own map says the same).  Returns 0 with h filled, or -errno.
 */
int handoff_build(struct handoff *h, const struct boot_regs *r, const struct footprint *fp,
		  const struct handoff_stub *stub, struct gmem *g, char *err, size_t errlen);

#endif
