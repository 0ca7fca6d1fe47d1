/* vmopt.h: the guest settings kvmload's command line and kvmload.conf share: VM name, vCPUs, network, accelerator, loader timeout; each rule and its words once. */
#ifndef KVMLOAD_VMOPT_H
#define KVMLOAD_VMOPT_H

#include <stdbool.h>

#define VMOPT_NAME_MAX 64  /* a VM name becomes a file name: its runtime directory */
#define VMOPT_CPUS_MAX 255 /* the pc machine's limit */
#define VMOPT_LOADER_TIMEOUT_MAX 86400 /* a day: longer is no watchdog */

/* What each rule says when a value breaks it: "<option> '<value>': <rule>". */
#define VMOPT_NAME_RULE "use 1-64 of A-Z a-z 0-9 . _ -, not starting with . or -"
#define VMOPT_CPUS_RULE "expected a number of vCPUs from 1 to 255"
#define VMOPT_NET_RULE "expected none, user or tap:IFNAME (1-15 of A-Z a-z 0-9 _ . -)"
#define VMOPT_ACCEL_RULE "expected kvm or tcg"
#define VMOPT_LOADER_TIMEOUT_RULE "expected a whole number of seconds from 1 to 86400"
#define VMOPT_MAC_RULE "expected a unicast MAC address, six hex bytes with colons (52:54:00:ab:cd:ef)"
#define VMOPT_MAC_LEN 17 /* xx:xx:xx:xx:xx:xx */

bool vmopt_name_valid(const char *s);
/* 1..VMOPT_CPUS_MAX from plain decimal digits, or -1. */
int vmopt_cpus(const char *s);
/* none, user, or tap:IFNAME with a name that fits IFNAMSIZ and needs no quoting. */
bool vmopt_net_valid(const char *s);
bool vmopt_accel_valid(const char *s);
/* 1..VMOPT_LOADER_TIMEOUT_MAX seconds from plain decimal digits, or -1. */
int vmopt_loader_timeout(const char *s);
/* Six hex bytes with colons, unicast (the first byte even) and not all zeros. */
bool vmopt_mac_valid(const char *s);
/*
 * The guest's MAC address when none is given: QEMU's prefix 52:54:00 and
 * three bytes of a hash of the VM's name, so guests on one bridge differ and
 * a guest keeps its address from boot to boot.
 */
void vmopt_mac_default(const char *vmname, char mac[VMOPT_MAC_LEN + 1]);

#endif
