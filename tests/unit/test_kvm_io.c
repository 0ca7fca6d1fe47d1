/* test_kvm_io.c: the port map (registration, lookup, dispatch) and the builtin machine on it. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "chipset.h"
#include "console.h"
#include "kvm.h"
#include "kvm_io.h"
#include "log.h"
#include "uart.h"

/* Test double of the console (console.c is not part of this test): no input, output kept. */
static char cons_out[16];
static size_t cons_len;

int console_getc(struct console *c)
{
	(void)c;
	return -1;
}

int console_poll(struct console *c)
{
	(void)c;
	return 0;
}

void console_putc(struct console *c, int ch)
{
	(void)c;
	if (cons_len < sizeof(cons_out) - 1)
		cons_out[cons_len++] = (char)ch;
}

/* A device that records its last access, answers reads with a pattern and returns ret. */
struct fake {
	int calls;
	void *dev;
	uint16_t off;
	bool out;
	int size;
	uint8_t data[4];
	int ret;
};

static int fake_io(void *dev, uint16_t off, bool out, uint8_t *data, int size)
{
	struct fake *f = dev;

	f->calls++;
	f->dev = dev;
	f->off = off;
	f->out = out;
	f->size = size;
	if (out) {
		memcpy(f->data, data, (size_t)size);
	} else {
		for (int i = 0; i < size; i++)
			data[i] = (uint8_t)(0xa0 + i);
	}
	return f->ret;
}

/* An out of size bytes of v, little-endian as the guest's register holds it. */
static int out(struct kvm_io *io, uint16_t port, int size, uint32_t v)
{
	uint8_t d[4];

	memcpy(d, &v, sizeof(d));
	return kvm_io_dispatch(io, port, true, d, size);
}

/* A read of size bytes from a buffer that held 0x5a5a5a5a, as a little-endian value. */
static uint32_t in(struct kvm_io *io, uint16_t port, int size)
{
	uint8_t d[4] = { 0x5a, 0x5a, 0x5a, 0x5a };
	uint32_t v = 0;

	CHECK_EQ(kvm_io_dispatch(io, port, false, d, size), KVM_IO_RUN);
	memcpy(&v, d, (size_t)size);
	return v;
}

static void test_register(void)
{
	struct kvm_io io = { 0 };
	struct fake a = { .ret = KVM_IO_RUN }, b = { .ret = KVM_IO_RUN };

	CHECK_EQ(kvm_io_register(&io, 0x100, 0, fake_io, &a), -EINVAL);
	CHECK_EQ(kvm_io_register(&io, 0xfff0, 0x11, fake_io, &a), -EINVAL);
	CHECK_EQ(io.n, 0);

	CHECK_EQ(kvm_io_register(&io, 0x100, 8, fake_io, &a), 0);
	CHECK_EQ(kvm_io_register(&io, 0x80, 1, fake_io, &b), 0);
	/* The top of the port space, to its last port. */
	CHECK_EQ(kvm_io_register(&io, 0xfff0, 0x10, fake_io, &b), 0);

	/* Every port inside a range finds it; the ports just outside do not. */
	for (uint16_t p = 0x100; p < 0x108; p++)
		CHECK(kvm_io_find(&io, p) == &io.range[0]);
	CHECK(kvm_io_find(&io, 0xff) == NULL);
	CHECK(kvm_io_find(&io, 0x108) == NULL);
	CHECK(kvm_io_find(&io, 0x80) == &io.range[1]);
	CHECK(kvm_io_find(&io, 0x7f) == NULL);
	CHECK(kvm_io_find(&io, 0x81) == NULL);
	CHECK(kvm_io_find(&io, 0xffff) == &io.range[2]);
	CHECK(kvm_io_find(&io, 0xffef) == NULL);
	CHECK(kvm_io_find(&io, 0) == NULL);

	/* Any overlap is refused: the same range, one port of it, across either end, around it. */
	CHECK_EQ(kvm_io_register(&io, 0x100, 8, fake_io, &b), -EEXIST);
	CHECK_EQ(kvm_io_register(&io, 0x104, 1, fake_io, &b), -EEXIST);
	CHECK_EQ(kvm_io_register(&io, 0xf8, 9, fake_io, &b), -EEXIST);
	CHECK_EQ(kvm_io_register(&io, 0x107, 4, fake_io, &b), -EEXIST);
	CHECK_EQ(kvm_io_register(&io, 0xf0, 0x20, fake_io, &b), -EEXIST);
	CHECK_EQ(kvm_io_register(&io, 0x7c, 8, fake_io, &b), -EEXIST);
	CHECK_EQ(kvm_io_register(&io, 0xffff, 1, fake_io, &b), -EEXIST);
	CHECK_EQ(io.n, 3);
	CHECK(kvm_io_find(&io, 0x104)->dev == &a);

	/* Ranges that only touch are fine. */
	CHECK_EQ(kvm_io_register(&io, 0xf8, 8, fake_io, &b), 0);
	CHECK_EQ(kvm_io_register(&io, 0x108, 8, fake_io, &b), 0);
	CHECK(kvm_io_find(&io, 0xff)->dev == &b);
	CHECK(kvm_io_find(&io, 0x100)->dev == &a);
	CHECK(kvm_io_find(&io, 0x107)->dev == &a);
	CHECK(kvm_io_find(&io, 0x108)->dev == &b);

	/* The map is full at KVM_IO_RANGES. */
	for (unsigned i = io.n; i < KVM_IO_RANGES; i++)
		CHECK_EQ(kvm_io_register(&io, (uint16_t)(0x1000 + 0x10 * i), 4, fake_io, &b), 0);
	CHECK_EQ(kvm_io_register(&io, 0x2000, 4, fake_io, &b), -ENOSPC);
	CHECK(kvm_io_find(&io, 0x2000) == NULL);
	CHECK_EQ(a.calls + b.calls, 0);
}

static void test_dispatch(void)
{
	struct kvm_io io = { 0 };
	struct fake a = { .ret = KVM_IO_RUN }, b = { .ret = KVM_IO_RUN };
	uint8_t d[4] = { 0x34, 0x12, 0x78, 0x56 };

	CHECK_EQ(kvm_io_register(&io, 0x100, 8, fake_io, &a), 0);
	CHECK_EQ(kvm_io_register(&io, 0x200, 2, fake_io, &b), 0);

	/* An out reaches its range's handler with the offset into the range, the size and the bytes. */
	CHECK_EQ(kvm_io_dispatch(&io, 0x102, true, d, 2), KVM_IO_RUN);
	CHECK_EQ(a.calls, 1);
	CHECK(a.dev == &a);
	CHECK_EQ(a.off, 2);
	CHECK(a.out);
	CHECK_EQ(a.size, 2);
	CHECK(memcmp(a.data, d, 2) == 0);
	CHECK_EQ(b.calls, 0);

	/* An in: the handler's bytes are the answer. */
	memset(d, 0, sizeof(d));
	CHECK_EQ(kvm_io_dispatch(&io, 0x201, false, d, 1), KVM_IO_RUN);
	CHECK_EQ(b.calls, 1);
	CHECK_EQ(b.off, 1);
	CHECK(!b.out);
	CHECK_EQ(b.size, 1);
	CHECK_EQ(d[0], 0xa0);
	CHECK_EQ(d[1], 0);
	CHECK_EQ(a.calls, 1);

	/* A wide access at a range's last port is the range's, whole: the device decides. */
	CHECK_EQ(in(&io, 0x107, 4), 0xa3a2a1a0);
	CHECK_EQ(a.off, 7);
	CHECK_EQ(a.size, 4);
	CHECK_EQ(out(&io, 0x201, 2, 0xbeef), KVM_IO_RUN);
	CHECK_EQ(b.off, 1);
	CHECK_EQ(b.size, 2);
	CHECK_EQ(b.data[0], 0xef);
	CHECK_EQ(b.data[1], 0xbe);
	/* One that starts just before a range is nobody's, even if it would reach into it. */
	CHECK_EQ(in(&io, 0xff, 4), 0xffffffff);
	CHECK_EQ(in(&io, 0x1ff, 2), 0xffff);
	CHECK_EQ(out(&io, 0xfe, 4, 0x01020304), KVM_IO_RUN);
	CHECK_EQ(a.calls, 2);
	CHECK_EQ(b.calls, 2);
	/* Nor is the port just after. */
	CHECK_EQ(in(&io, 0x108, 1), 0xff);
	CHECK_EQ(in(&io, 0x202, 2), 0xffff);
	CHECK_EQ(a.calls, 2);
	CHECK_EQ(b.calls, 2);

	/* What the handler returns is the result, but for KVM_IO_UNCLAIMED. */
	a.ret = VM_EXIT_RESET;
	CHECK_EQ(out(&io, 0x100, 1, 1), VM_EXIT_RESET);
	a.ret = VM_EXIT_POWEROFF;
	CHECK_EQ(out(&io, 0x100, 1, 1), VM_EXIT_POWEROFF);
	a.ret = KVM_IO_UNCLAIMED;
	CHECK_EQ(in(&io, 0x103, 2), 0xffff); /* the handler's pattern is overwritten */
	d[0] = 0x42;
	CHECK_EQ(kvm_io_dispatch(&io, 0x103, true, d, 1), KVM_IO_RUN);
	CHECK_EQ(d[0], 0x42);
	CHECK_EQ(a.calls, 6);
}

/* Each unhandled port is logged once, reads and writes alike, with -v only. */
static void test_unclaimed_log(void)
{
	struct kvm_io io = { 0 };
	int fd = memfd_create("stderr", MFD_CLOEXEC), saved = dup(STDERR_FILENO);
	char buf[512] = { 0 };

	CHECK(fd >= 0 && saved >= 0);
	dup2(fd, STDERR_FILENO);
	log_init("t", 1);
	CHECK_EQ(out(&io, 0x500, 2, 0x1234), KVM_IO_RUN);
	CHECK_EQ(out(&io, 0x500, 1, 0x01), KVM_IO_RUN);
	CHECK_EQ(in(&io, 0x500, 1), 0xff);
	CHECK_EQ(in(&io, 0x501, 4), 0xffffffff);
	CHECK_EQ(in(&io, 0x501, 1), 0xff);
	log_init("t", 0);
	CHECK_EQ(in(&io, 0x502, 1), 0xff);
	dup2(saved, STDERR_FILENO);
	close(saved);
	CHECK(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	CHECK_STR(buf, "t: guest wrote 0x1234 (2 bytes) to unhandled port 0x500; ignored further\n"
		       "t: guest read 4 bytes from unhandled port 0x501; ignored further\n");
	close(fd);
}

/* What a write does on the builtin machine's map. */
static const struct {
	uint16_t port;
	int size;
	uint32_t v;
	int want;
} writes[] = {
	{ 0x80, 1, 0x42, KVM_IO_RUN },            /* POST codes: ignored */
	{ 0xcf9, 1, 0x02, KVM_IO_RUN },           /* reset control: bit 2 resets, at any width */
	{ 0xcf9, 1, 0x06, VM_EXIT_RESET },
	{ 0xcf9, 1, 0x04, VM_EXIT_RESET },
	{ 0xcf9, 4, 0x0e, VM_EXIT_RESET },
	{ 0xcf8, 4, 0x80000004, KVM_IO_RUN },     /* PCI's config address: nobody's */
	{ 0x64, 1, 0xd1, KVM_IO_RUN },            /* KBC: command 0xfe (low byte) resets */
	{ 0x64, 1, 0xfe, VM_EXIT_RESET },
	{ 0x64, 2, 0x01fe, VM_EXIT_RESET },
	{ 0x64, 2, 0xfe01, KVM_IO_RUN },
	{ 0x404, 2, 0x2400, KVM_IO_RUN },         /* PM1a: SLP_EN|S1 */
	{ 0x404, 2, 0x1400, KVM_IO_RUN },         /* S5 without SLP_EN */
	{ 0x404, 2, 0x3400, VM_EXIT_POWEROFF },   /* SLP_EN|S5, 16 bits */
	{ 0x404, 4, 0x3400, KVM_IO_RUN },         /* ... only at 16 bits */
	{ 0x404, 1, 0x34, KVM_IO_RUN },
	{ 0x500, 1, 0x01, KVM_IO_RUN },           /* unknown port: ignored */
};

/* The builtin machine's map, registered as main.c does: COM1 and the chipset's four ports. */
static void test_machine(void)
{
	static const uint16_t single[] = { 0x80, 0x64, 0xcf9, 0x404 };
	struct kvm_io io = { 0 };
	struct console cons = { 0 };
	struct uart u;

	uart_init(&u, &cons);
	CHECK_EQ(uart_register(&u, &io), 0);
	CHECK_EQ(chipset_register(&io), 0);
	CHECK_EQ(io.n, 5);
	/* A second device on the same ports is refused. */
	CHECK_EQ(uart_register(&u, &io), -EEXIST);
	CHECK_EQ(chipset_register(&io), -EEXIST);
	CHECK_EQ(io.n, 5);

	for (uint16_t p = 0x3f8; p <= 0x3ff; p++)
		CHECK(kvm_io_find(&io, p) != NULL && kvm_io_find(&io, p)->dev == &u);
	CHECK(kvm_io_find(&io, 0x3f7) == NULL);
	CHECK(kvm_io_find(&io, 0x400) == NULL);
	CHECK(kvm_io_find(&io, 0x2f8) == NULL);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		const struct kvm_io_range *r = kvm_io_find(&io, single[i]);

		CHECK(r != NULL && r->port == single[i] && r->len == 1);
		CHECK(kvm_io_find(&io, (uint16_t)(single[i] - 1)) == NULL);
		CHECK(kvm_io_find(&io, (uint16_t)(single[i] + 1)) == NULL);
	}

	/* The chipset's ports and the unknown ones, written as a guest does. */
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		int got = out(&io, writes[i].port, writes[i].size, writes[i].v);

		CHECK_EQ(got, writes[i].want);
		if (got != writes[i].want)
			fprintf(stderr, "  out 0x%x (%d bytes) to port 0x%x\n", writes[i].v,
				writes[i].size, writes[i].port);
	}
	/* Reads: all ones from ports nobody answers, and from POST's (the buffer held 0x5a...). */
	CHECK_EQ(in(&io, 0x80, 1), 0xff);
	CHECK_EQ(in(&io, 0xcf9, 1), 0xff);
	CHECK_EQ(in(&io, 0xcf8, 4), 0xffffffff);
	CHECK_EQ(in(&io, 0x64, 1), 0xff);
	CHECK_EQ(in(&io, 0x404, 2), 0xffff);
	CHECK_EQ(in(&io, 0x1234, 1), 0xff);

	/* COM1 through the map: THR to the console; a wide read has the register in its low byte. */
	CHECK_EQ(out(&io, 0x3f8, 1, 'o'), KVM_IO_RUN);
	CHECK_EQ(out(&io, 0x3f8, 2, 0x4b6b), KVM_IO_RUN);
	CHECK_EQ(cons_len, 2);
	CHECK_STR(cons_out, "ok");
	CHECK_EQ(in(&io, 0x3fd, 2), 0x0060);
	CHECK_EQ(out(&io, 0x3ff, 4, 0x11223344), KVM_IO_RUN);
	CHECK_EQ(in(&io, 0x3ff, 4), 0x00000044);
}

int main(void)
{
	test_register();
	test_dispatch();
	test_unclaimed_log();
	test_machine();
	return check_done();
}
