/* uart.c: the 16550A register file at COM1, polled only, bytes to and from the console. */
#include <stddef.h>
#include <string.h>

#include "console.h"
#include "kvm_io.h"
#include "uart.h"

/*
 * There is no interrupt controller in this version, so the UART never
 * raises an interrupt.  IIR still reports the pending condition a real
 * 16550A would signal, so a guest that polls IIR sees consistent state.
 */

enum {
	REG_DATA = 0, /* RBR (read) / THR (write); DLL when LCR.DLAB */
	REG_IER = 1,  /* DLM when LCR.DLAB */
	REG_IIR = 2,  /* FCR on write */
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_MASK  0x0f

#define IIR_NOPEND 0x01
#define IIR_TXRDY  0x02
#define IIR_RXRDY  0x04
#define IIR_FIFO   0xc0

#define FCR_ENABLE   0x01
#define FCR_RCV_RST  0x02
#define FCR_KEEP     0xc1 /* enable + receive trigger level; the reset bits self-clear */

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR   0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI  0x40
#define MSR_DCD 0x80

void uart_init(struct uart *u, struct console *cons)
{
	*u = (struct uart){ .cons = cons, .dll = 1 };
}

static bool uart_loopback(const struct uart *u)
{
	return u->mcr & MCR_LOOP;
}

static bool uart_rx_ready(struct uart *u)
{
	if (uart_loopback(u))
		return u->loop_len > 0;
	return console_poll(u->cons) > 0;
}

static uint8_t uart_rx(struct uart *u)
{
	uint8_t b;
	int c;

	if (uart_loopback(u)) {
		if (u->loop_len == 0)
			return 0;
		b = u->loop[u->loop_head];
		u->loop_head = (u->loop_head + 1) % UART_LOOP_FIFO;
		u->loop_len--;
		return b;
	}
	/* Only read when a byte waits: RBR reads must never block the vCPU. */
	if (console_poll(u->cons) <= 0)
		return 0;
	c = console_getc(u->cons);
	return c < 0 ? 0 : (uint8_t)c;
}

/* The loopback FIFO empties on a receive-FIFO reset and when loopback mode ends. */
static void uart_loop_clear(struct uart *u)
{
	u->loop_head = 0;
	u->loop_len = 0;
}

static void uart_tx(struct uart *u, uint8_t b)
{
	if (uart_loopback(u)) {
		/* A full FIFO drops the byte, as the chip's receiver overruns. */
		if (u->loop_len < UART_LOOP_FIFO) {
			u->loop[(u->loop_head + u->loop_len) % UART_LOOP_FIFO] = b;
			u->loop_len++;
		}
	} else {
		console_putc(u->cons, b);
	}
	/* Transmission is instantaneous, so the holding register is empty again. */
	u->thre_pending = true;
}

static uint8_t uart_iir(struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((u->ier & IER_ERBFI) && uart_rx_ready(u))
		return fifo | IIR_RXRDY;
	if ((u->ier & IER_ETBEI) && u->thre_pending) {
		/* Reading IIR acknowledges the THRE condition (16550A behaviour). */
		u->thre_pending = false;
		return fifo | IIR_TXRDY;
	}
	return fifo | IIR_NOPEND;
}

static uint8_t uart_msr(const struct uart *u)
{
	uint8_t m = 0;

	if (!uart_loopback(u))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback wires the modem outputs back to the inputs. */
	if (u->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static void uart_write(struct uart *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			u->dll = v;
		else
			uart_tx(u, v);
		break;
	case REG_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling THRE interrupts with an empty THR raises the condition at once. */
		if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI))
			u->thre_pending = true;
		u->ier = v & IER_MASK;
		break;
	case REG_IIR:
		if (v & FCR_RCV_RST)
			uart_loop_clear(u);
		u->fcr = v & FCR_KEEP;
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		if (!(v & MCR_LOOP))
			uart_loop_clear(u);
		u->mcr = v & MCR_MASK;
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default:
		/* LSR and MSR are read-only (writes are the chip's factory test). */
		break;
	}
}

static uint8_t uart_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		return dlab ? u->dll : uart_rx(u);
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR:
		return uart_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (uart_rx_ready(u) ? LSR_DR : 0);
	case REG_MSR:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

/* The registers are byte wide: a wider access reaches the first one only (the rest reads 0). */
static int uart_io(void *dev, uint16_t off, bool out, uint8_t *data, int size)
{
	struct uart *u = dev;

	if (out) {
		uart_write(u, off, data[0]);
	} else {
		memset(data, 0, (size_t)size);
		data[0] = uart_read(u, off);
	}
	return KVM_IO_RUN;
}

int uart_register(struct uart *u, struct kvm_io *io)
{
	return kvm_io_register(io, UART_COM1_BASE, UART_NPORTS, uart_io, u);
}
