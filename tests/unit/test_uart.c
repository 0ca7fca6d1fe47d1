/* test_uart.c: the 16550A register file as a guest driver sees it, with a test double for the console. */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "console.h"
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

static uint8_t rd(struct uart *u, unsigned reg)
{
	uint8_t v = 0xee;

	CHECK(uart_io(u, (uint16_t)(UART_COM1_BASE + reg), false, &v));
	return v;
}

static void wr(struct uart *u, unsigned reg, uint8_t v)
{
	CHECK(uart_io(u, (uint16_t)(UART_COM1_BASE + reg), true, &v));
}

static off_t out_len(struct console *c)
{
	return lseek(c->out_fd, 0, SEEK_END);
}

int main(void)
{
	struct console c = { 0 };
	struct uart u;
	int in[2];
	char buf[8] = { 0 };
	uint8_t v;

	if (pipe(in) < 0)
		return 1;
	c.in_fd = in[0];
	c.out_fd = memfd_create("uart-out", MFD_CLOEXEC);
	uart_init(&u, &c);

	/* Only COM1's eight ports are the UART's. */
	CHECK(!uart_io(&u, 0x3f7, false, &v));
	CHECK(!uart_io(&u, 0x400, true, &v));
	CHECK(!uart_io(&u, 0x2f8, false, &v));

	/* Idle: transmitter empty, no data, modem lines DCD|DSR|CTS, no interrupt pending. */
	CHECK_EQ(rd(&u, 5), 0x60);
	CHECK_EQ(rd(&u, 6), 0xb0);
	CHECK_EQ(rd(&u, 2), 0x01);
	CHECK_EQ(rd(&u, 0), 0); /* RBR with nothing waiting returns at once */

	/* THR writes reach the console byte for byte. */
	wr(&u, 0, 'h');
	wr(&u, 0, 'i');
	CHECK_EQ(pread(c.out_fd, buf, sizeof(buf), 0), 2);
	CHECK_STR(buf, "hi");

	/* Input: LSR.DR follows the console, RBR hands the byte over once. */
	CHECK_EQ(write(in[1], "zq", 2), 2);
	CHECK_EQ(rd(&u, 5), 0x61);
	CHECK_EQ(rd(&u, 0), 'z');
	CHECK_EQ(rd(&u, 5), 0x61);
	CHECK_EQ(rd(&u, 0), 'q');
	CHECK_EQ(rd(&u, 5), 0x60);

	/* DLAB switches ports 0/1 to the divisor latch; data written there is not sent. */
	wr(&u, 3, 0x83);
	CHECK_EQ(rd(&u, 0), 1); /* power-on divisor: 115200 baud */
	wr(&u, 0, 0x0c);
	wr(&u, 1, 0x00);
	CHECK_EQ(rd(&u, 0), 0x0c);
	CHECK_EQ(rd(&u, 1), 0x00);
	CHECK_EQ(rd(&u, 3), 0x83);
	CHECK_EQ(out_len(&c), 2);
	wr(&u, 3, 0x03);
	CHECK_EQ(rd(&u, 3), 0x03);

	/* Scratch register round trip; IER and MCR keep only their defined bits. */
	wr(&u, 7, 0x5a);
	CHECK_EQ(rd(&u, 7), 0x5a);
	wr(&u, 1, 0xff);
	CHECK_EQ(rd(&u, 1), 0x0f);
	wr(&u, 1, 0);
	wr(&u, 4, 0xff);
	CHECK_EQ(rd(&u, 4), 0x1f);
	wr(&u, 4, 0x0b);

	/* FIFO enable shows in IIR bits 6-7; the reset bits do not stick. */
	wr(&u, 2, 0x07);
	CHECK_EQ(rd(&u, 2), 0xc1);

	/* THRE condition: raised by enabling it, cleared by reading IIR, raised again by a send. */
	wr(&u, 1, 0x02);
	CHECK_EQ(rd(&u, 2), 0xc2);
	CHECK_EQ(rd(&u, 2), 0xc1);
	wr(&u, 0, '!');
	CHECK_EQ(rd(&u, 2), 0xc2);
	CHECK_EQ(rd(&u, 2), 0xc1);
	/* Received data outranks THRE. */
	wr(&u, 1, 0x03);
	CHECK_EQ(write(in[1], "r", 1), 1);
	CHECK_EQ(rd(&u, 2), 0xc4);
	CHECK_EQ(rd(&u, 0), 'r');
	wr(&u, 1, 0);

	/* Loopback: sent bytes come back on RBR, not on the console; MSR mirrors MCR. */
	wr(&u, 4, 0x10 | 0x03); /* LOOP|RTS|DTR */
	CHECK_EQ(rd(&u, 6), 0x30);
	wr(&u, 4, 0x10 | 0x0c); /* LOOP|OUT2|OUT1 */
	CHECK_EQ(rd(&u, 6), 0xc0);
	wr(&u, 0, 'L');
	wr(&u, 0, 'b');
	CHECK_EQ(out_len(&c), 3);
	CHECK_EQ(rd(&u, 5), 0x61);
	CHECK_EQ(rd(&u, 0), 'L');
	CHECK_EQ(rd(&u, 0), 'b');
	CHECK_EQ(rd(&u, 5), 0x60);
	for (int i = 0; i < UART_LOOP_FIFO + 4; i++)
		wr(&u, 0, (uint8_t)('a' + i));
	for (int i = 0; i < UART_LOOP_FIFO; i++)
		CHECK_EQ(rd(&u, 0), 'a' + i); /* overrun drops the extra bytes */
	CHECK_EQ(rd(&u, 5), 0x60);
	wr(&u, 4, 0x0b);
	CHECK_EQ(rd(&u, 6), 0xb0);
	wr(&u, 0, '.');
	CHECK_EQ(pread(c.out_fd, buf, sizeof(buf), 0), 4);
	CHECK_STR(buf, "hi!.");

	close(in[0]);
	close(in[1]);
	close(c.out_fd);
	return check_done();
}
