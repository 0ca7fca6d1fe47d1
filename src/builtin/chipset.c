/* chipset.c: the board ports a FreeBSD guest stops the machine through, and the POST port. */
#include <stdint.h>
#include <string.h>

#include "chipset.h"
#include "kvm.h"
#include "kvm_io.h"

#define PORT_POST       0x80  /* BIOS POST codes */
#define PORT_KBC_CMD    0x64  /* keyboard controller: 0xfe pulses the reset line */
#define KBC_CMD_RESET   0xfe
#define PORT_RESET_CTL  0xcf9 /* PCI reset control: bit 2 starts the reset */
#define RESET_CTL_RST   0x04
/* bhyve's ACPI PM1a control register: SLP_EN with SLP_TYP 5 is S5, power off. */
#define PORT_PM1A_CNT   0x404
#define PM1_SLP_EN      0x2000
#define PM1_SLP_TYP(v)  (((v) >> 10) & 7)
#define PM1_SLP_TYP_S5  5

static uint32_t chipset_value(const uint8_t *data, int size)
{
	uint32_t v = 0;

	memcpy(&v, data, (size_t)size);
	return v;
}

/* POST codes are for a BIOS debug card: nobody listens.  A read gets all ones, as from no device. */
static int chipset_post(void *dev, uint16_t off, bool out, uint8_t *data, int size)
{
	(void)dev;
	(void)off;
	if (!out)
		memset(data, 0xff, (size_t)size);
	return KVM_IO_RUN;
}

/* The reset ports are write-only; reads fall through to the unhandled-port answer. */
static int chipset_reset_ctl(void *dev, uint16_t off, bool out, uint8_t *data, int size)
{
	(void)dev;
	(void)off;
	if (!out)
		return KVM_IO_UNCLAIMED;
	return chipset_value(data, size) & RESET_CTL_RST ? VM_EXIT_RESET : KVM_IO_RUN;
}

/* Only the reset command is modelled; any other controller command is an unhandled write. */
static int chipset_kbc(void *dev, uint16_t off, bool out, uint8_t *data, int size)
{
	(void)dev;
	(void)off;
	(void)size;
	if (out && data[0] == KBC_CMD_RESET)
		return VM_EXIT_RESET;
	return KVM_IO_UNCLAIMED;
}

/* PM1a_CNT is a 16-bit register: other widths and other sleep states are ignored. */
static int chipset_pm1a(void *dev, uint16_t off, bool out, uint8_t *data, int size)
{
	uint32_t v;

	(void)dev;
	(void)off;
	if (!out)
		return KVM_IO_UNCLAIMED;
	v = chipset_value(data, size);
	if (size == 2 && (v & PM1_SLP_EN) && PM1_SLP_TYP(v) == PM1_SLP_TYP_S5)
		return VM_EXIT_POWEROFF;
	return KVM_IO_RUN;
}

int chipset_register(struct kvm_io *io)
{
	static const struct {
		uint16_t port;
		kvm_io_fn *fn;
	} ports[] = {
		{ PORT_POST, chipset_post },
		{ PORT_KBC_CMD, chipset_kbc },
		{ PORT_RESET_CTL, chipset_reset_ctl },
		{ PORT_PM1A_CNT, chipset_pm1a },
	};
	int r;

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		r = kvm_io_register(io, ports[i].port, 1, ports[i].fn, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}
