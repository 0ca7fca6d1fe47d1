/* test_uart.c: the 16550A register file as a guest driver sees it, with a test double for the console. */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "console.h"
#include "kvm_io.h"
#include "uart.h"

/* Test double of the console (console.c is not part of this test). */
int console_getc(struct console *c)
{
	unsigned char b;

	return read(c->in_fd, &b, 1) == 1 ? b : -1;
}

int console_poll(struct console *c)
{
	struct pollfd p = { .fd = c->in_fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

void console_putc(struct console *c, int ch)
{
	unsigned char b = (unsigned char)ch;

	if (write(c->out_fd, &b, 1) != 1)
		abort();
}

/* The guest's view: a byte access to COM1's port reg, through the port map. */
static uint8_t rd(struct kvm_io *io, unsigned reg)
{
	uint8_t v = 0xee;

	CHECK_EQ(kvm_io_dispatch(io, (uint16_t)(UART_COM1_BASE + reg), false, &v, 1), KVM_IO_RUN);
	return v;
}

static void wr(struct kvm_io *io, unsigned reg, uint8_t v)
{
	CHECK_EQ(kvm_io_dispatch(io, (uint16_t)(UART_COM1_BASE + reg), true, &v, 1), KVM_IO_RUN);
}

static off_t out_len(struct console *c)
{
	return lseek(c->out_fd, 0, SEEK_END);
}

int main(void)
{
	struct console c = { 0 };
	struct uart u;
	struct kvm_io io = { 0 };
	int in[2];
	char buf[8] = { 0 };

	if (pipe(in) < 0)
		return 1;
	c.in_fd = in[0];
	c.out_fd = memfd_create("uart-out", MFD_CLOEXEC);
	uart_init(&u, &c);
	CHECK_EQ(uart_register(&u, &io), 0);

	/* Only COM1's eight ports are the UART's. */
	CHECK(kvm_io_find(&io, 0x3f8) != NULL && kvm_io_find(&io, 0x3f8)->len == UART_NPORTS);
	CHECK(kvm_io_find(&io, 0x3f8)->dev == &u);
	CHECK(kvm_io_find(&io, 0x3f7) == NULL);
	CHECK(kvm_io_find(&io, 0x400) == NULL);
	CHECK(kvm_io_find(&io, 0x2f8) == NULL);

	/* Idle: transmitter empty, no data, modem lines DCD|DSR|CTS, no interrupt pending. */
	CHECK_EQ(rd(&io, 5), 0x60);
	CHECK_EQ(rd(&io, 6), 0xb0);
	CHECK_EQ(rd(&io, 2), 0x01);
	CHECK_EQ(rd(&io, 0), 0); /* RBR with nothing waiting returns at once */

	/* THR writes reach the console byte for byte. */
	wr(&io, 0, 'h');
	wr(&io, 0, 'i');
	CHECK_EQ(pread(c.out_fd, buf, sizeof(buf), 0), 2);
	CHECK_STR(buf, "hi");

	/* Input: LSR.DR follows the console, RBR hands the byte over once. */
	CHECK_EQ(write(in[1], "zq", 2), 2);
	CHECK_EQ(rd(&io, 5), 0x61);
	CHECK_EQ(rd(&io, 0), 'z');
	CHECK_EQ(rd(&io, 5), 0x61);
	CHECK_EQ(rd(&io, 0), 'q');
	CHECK_EQ(rd(&io, 5), 0x60);

	/* DLAB switches ports 0/1 to the divisor latch; data written there is not sent. */
	wr(&io, 3, 0x83);
	CHECK_EQ(rd(&io, 0), 1); /* power-on divisor: 115200 baud */
	wr(&io, 0, 0x0c);
	wr(&io, 1, 0x00);
	CHECK_EQ(rd(&io, 0), 0x0c);
	CHECK_EQ(rd(&io, 1), 0x00);
	CHECK_EQ(rd(&io, 3), 0x83);
	CHECK_EQ(out_len(&c), 2);
	wr(&io, 3, 0x03);
	CHECK_EQ(rd(&io, 3), 0x03);

	/* Scratch register round trip; IER and MCR keep only their defined bits. */
	wr(&io, 7, 0x5a);
	CHECK_EQ(rd(&io, 7), 0x5a);
	wr(&io, 1, 0xff);
	CHECK_EQ(rd(&io, 1), 0x0f);
	wr(&io, 1, 0);
	wr(&io, 4, 0xff);
	CHECK_EQ(rd(&io, 4), 0x1f);
	wr(&io, 4, 0x0b);

	/* FIFO enable shows in IIR bits 6-7; the reset bits do not stick. */
	wr(&io, 2, 0x07);
	CHECK_EQ(rd(&io, 2), 0xc1);

	/* THRE condition: raised by enabling it, cleared by reading IIR, raised again by a send. */
	wr(&io, 1, 0x02);
	CHECK_EQ(rd(&io, 2), 0xc2);
	CHECK_EQ(rd(&io, 2), 0xc1);
	wr(&io, 0, '!');
	CHECK_EQ(rd(&io, 2), 0xc2);
	CHECK_EQ(rd(&io, 2), 0xc1);
	/* Received data outranks THRE. */
	wr(&io, 1, 0x03);
	CHECK_EQ(write(in[1], "r", 1), 1);
	CHECK_EQ(rd(&io, 2), 0xc4);
	CHECK_EQ(rd(&io, 0), 'r');
	wr(&io, 1, 0);

	/* Loopback: sent bytes come back on RBR, not on the console; MSR mirrors MCR. */
	wr(&io, 4, 0x10 | 0x03); /* LOOP|RTS|DTR */
	CHECK_EQ(rd(&io, 6), 0x30);
	wr(&io, 4, 0x10 | 0x0c); /* LOOP|OUT2|OUT1 */
	CHECK_EQ(rd(&io, 6), 0xc0);
	wr(&io, 0, 'L');
	wr(&io, 0, 'b');
	CHECK_EQ(out_len(&c), 3);
	CHECK_EQ(rd(&io, 5), 0x61);
	CHECK_EQ(rd(&io, 0), 'L');
	CHECK_EQ(rd(&io, 0), 'b');
	CHECK_EQ(rd(&io, 5), 0x60);
	for (int i = 0; i < UART_LOOP_FIFO + 4; i++)
		wr(&io, 0, (uint8_t)('a' + i));
	for (int i = 0; i < UART_LOOP_FIFO; i++)
		CHECK_EQ(rd(&io, 0), 'a' + i); /* overrun drops the extra bytes */
	CHECK_EQ(rd(&io, 5), 0x60);
	wr(&io, 4, 0x0b);
	CHECK_EQ(rd(&io, 6), 0xb0);
	wr(&io, 0, '.');
	CHECK_EQ(pread(c.out_fd, buf, sizeof(buf), 0), 4);
	CHECK_STR(buf, "hi!.");

	close(in[0]);
	close(in[1]);
	close(c.out_fd);
	return check_done();
}
