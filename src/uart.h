/* uart.h: a 16550 UART at COM1 (0x3f8-0x3ff) wired to the console, for the booted kernel. */
#ifndef KVMLOAD_UART_H
#define KVMLOAD_UART_H

#include <stdbool.h>
#include <stdint.h>

struct console;

#define UART_COM1_BASE 0x3f8

struct uart {
	struct console *cons;
	uint8_t ier, iir, lcr, mcr, lsr, msr, scr, fcr;
	uint8_t dll, dlm;
};

void uart_init(struct uart *u, struct console *cons);
/*
 * Handle a 1-byte port access.  Returns false when the port is not the
 * UART's; for reads *val receives the register value.
 */
bool uart_io(struct uart *u, uint16_t port, bool is_write, uint8_t *val);

#endif
