/* chipset.h: the builtin machine's board ports: POST codes, reset, ACPI power-off. */
#ifndef KVMLOAD_CHIPSET_H
#define KVMLOAD_CHIPSET_H

struct kvm_io;

/*
 * Register port 0x80 (POST codes, ignored), 0xcf9 (reset control: bit 2
 * resets), 0x64 (keyboard controller: command 0xfe resets) and 0x404
 * (bhyve's ACPI PM1a control: a 16-bit SLP_EN with SLP_TYP 5 powers off).
 * Returns 0 or kvm_io_register's -errno.
 */
int chipset_register(struct kvm_io *io);

#endif
