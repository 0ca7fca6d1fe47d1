/* uart.h: a 16550A UART at COM1 (0x3f8-0x3ff) wired to the console, polled only. */
#ifndef KVMLOAD_UART_H
#define KVMLOAD_UART_H

#include <stdbool.h>
#include <stdint.h>

struct console;
struct kvm_io;

#define UART_COM1_BASE 0x3f8
#define UART_NPORTS    8

/* Bytes a guest can push through the UART in loopback mode before reading them back. */
#define UART_LOOP_FIFO 16

struct uart {
	struct console *cons;
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	bool thre_pending; /* "transmitter empty" interrupt condition, visible in IIR */
	uint8_t loop[UART_LOOP_FIFO];
	unsigned loop_head, loop_len;
};

/* Reset to power-on state (divisor 1 = 115200 baud, 8N1 is left to the guest). */
void uart_init(struct uart *u, struct console *cons);
/* Give COM1's eight ports to u.  Returns 0 or kvm_io_register's -errno. */
int uart_register(struct uart *u, struct kvm_io *io);

#endif
