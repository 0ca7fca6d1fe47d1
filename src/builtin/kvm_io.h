/* kvm_io.h: the builtin machine's port map: {port, length, handler} ranges the devices register. */
#ifndef KVMLOAD_KVM_IO_H
#define KVMLOAD_KVM_IO_H

#include <stdbool.h>
#include <stdint.h>

/* One range per device register block; the builtin machine registers five. */
#define KVM_IO_RANGES 8

/* Handler results besides a vm_exit (kvm.h), which stops the guest. */
#define KVM_IO_RUN       (-1) /* done: the guest runs on */
#define KVM_IO_UNCLAIMED (-2) /* not decoded by the device: treat as an unhandled port */

/*
 * One access of size bytes (1, 2 or 4) that starts off bytes into the
 * device's range; data is the access in the guest's (little-endian) byte
 * order, filled by the handler for an in, read by it for an out.  The
 * device decides what a wider access past its range's end means.
 * Returns KVM_IO_RUN, KVM_IO_UNCLAIMED or a vm_exit.
 */
typedef int kvm_io_fn(void *dev, uint16_t off, bool out, uint8_t *data, int size);

struct kvm_io_range {
	uint16_t port;
	uint16_t len;
	kvm_io_fn *fn;
	void *dev;
};

/* All zero is an empty map. */
struct kvm_io {
	struct kvm_io_range range[KVM_IO_RANGES];
	unsigned n;
	/* Ports already reported as unhandled (each is logged once). */
	uint64_t logged[65536 / 64];
};

/*
 * Give ports port .. port+len-1 to fn, called with dev.  Returns 0,
 * -EINVAL for an empty range or one past port 0xffff, -EEXIST when it
 * overlaps a registered range, -ENOSPC when the map is full.
 */
int kvm_io_register(struct kvm_io *io, uint16_t port, uint16_t len, kvm_io_fn *fn, void *dev);
/* The range that holds port, or NULL. */
const struct kvm_io_range *kvm_io_find(const struct kvm_io *io, uint16_t port);
/*
 * Hand one access to the range holding its first port.  Ports nobody
 * claims read as all ones and ignore writes (logged once per port with -v).
 * Returns KVM_IO_RUN or the vm_exit a handler asked for.
 */
int kvm_io_dispatch(struct kvm_io *io, uint16_t port, bool out, uint8_t *data, int size);

#endif
