/* kvm_io.c: the builtin machine's port map: registration, lookup, dispatch, unhandled ports. */
#include <errno.h>
#include <string.h>

#include "kvm_io.h"
#include "log.h"

int kvm_io_register(struct kvm_io *io, uint16_t port, uint16_t len, kvm_io_fn *fn, void *dev)
{
	unsigned end = (unsigned)port + len;

	if (len == 0 || end > 0x10000)
		return -EINVAL;
	for (unsigned i = 0; i < io->n; i++) {
		const struct kvm_io_range *r = &io->range[i];

		if (port < (unsigned)r->port + r->len && r->port < end)
			return -EEXIST;
	}
	if (io->n == KVM_IO_RANGES)
		return -ENOSPC;
	io->range[io->n++] = (struct kvm_io_range){ .port = port, .len = len, .fn = fn, .dev = dev };
	return 0;
}

const struct kvm_io_range *kvm_io_find(const struct kvm_io *io, uint16_t port)
{
	for (unsigned i = 0; i < io->n; i++) {
		const struct kvm_io_range *r = &io->range[i];

		if (port >= r->port && port - r->port < r->len)
			return r;
	}
	return NULL;
}

static void kvm_io_unclaimed(struct kvm_io *io, uint16_t port, bool out, const uint8_t *data,
			     int size)
{
	uint64_t bit = 1ULL << (port % 64);
	uint32_t v = 0;

	if (io->logged[port / 64] & bit)
		return;
	io->logged[port / 64] |= bit;
	if (out) {
		memcpy(&v, data, (size_t)size);
		log_debug("guest wrote 0x%x (%d bytes) to unhandled port 0x%x; ignored further",
			  v, size, port);
	} else {
		log_debug("guest read %d bytes from unhandled port 0x%x; ignored further", size, port);
	}
}

int kvm_io_dispatch(struct kvm_io *io, uint16_t port, bool out, uint8_t *data, int size)
{
	const struct kvm_io_range *r = kvm_io_find(io, port);
	int ret = KVM_IO_UNCLAIMED;

	if (r)
		ret = r->fn(r->dev, (uint16_t)(port - r->port), out, data, size);
	if (ret != KVM_IO_UNCLAIMED)
		return ret;
	/* No device drives the bus: a read floats to all ones. */
	if (!out)
		memset(data, 0xff, (size_t)size);
	kvm_io_unclaimed(io, port, out, data, size);
	return KVM_IO_RUN;
}
