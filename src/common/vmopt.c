/* vmopt.c: the rules for a VM's name, vCPUs, network, MAC address, accelerator and loader timeout, for kvmload and kvmload-hotplug. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmopt.h"

#define VMOPT_PLAIN "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

bool vmopt_name_valid(const char *s)
{
	size_t n = strlen(s);

	/* No leading . or -: never ".." or an option, whatever the directory or command line. */
	return n >= 1 && n <= VMOPT_NAME_MAX && s[0] != '.' && s[0] != '-' &&
	       strspn(s, VMOPT_PLAIN) == n;
}

/* Plain decimal digits only (no sign, space or suffix), at most digits of them, lo..hi; else -1. */
static int vmopt_number(const char *s, size_t digits, int lo, int hi)
{
	size_t n = strspn(s, "0123456789");
	int v;

	if (n == 0 || n > digits || s[n])
		return -1;
	v = atoi(s);
	return v >= lo && v <= hi ? v : -1;
}

int vmopt_cpus(const char *s)
{
	return vmopt_number(s, 3, 1, VMOPT_CPUS_MAX);
}

int vmopt_loader_timeout(const char *s)
{
	return vmopt_number(s, 5, 1, VMOPT_LOADER_TIMEOUT_MAX);
}

bool vmopt_net_valid(const char *s)
{
	size_t n;

	if (strcmp(s, "none") == 0 || strcmp(s, "user") == 0)
		return true;
	if (strncmp(s, "tap:", 4) != 0)
		return false;
	s += 4;
	n = strlen(s);
	/* 15: IFNAMSIZ less its NUL; plain bytes, so QEMU's option syntax needs no escaping. */
	return n >= 1 && n <= 15 && strspn(s, VMOPT_PLAIN) == n;
}

bool vmopt_accel_valid(const char *s)
{
	return strcmp(s, "kvm") == 0 || strcmp(s, "tcg") == 0;
}

bool vmopt_mac_valid(const char *s)
{
	unsigned b[6], any = 0;
	int end = 0;

	if (strlen(s) != VMOPT_MAC_LEN || strspn(s, "0123456789abcdefABCDEF:") != VMOPT_MAC_LEN ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6 ||
	    end != VMOPT_MAC_LEN)
		return false;
	for (int i = 0; i < 6; i++)
		any |= b[i];
	return (b[0] & 1) == 0 && any != 0;
}

void vmopt_mac_default(const char *vmname, char mac[VMOPT_MAC_LEN + 1])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)vmname; *c; c++)
		h = (h ^ *c) * 16777619u;
	snprintf(mac, VMOPT_MAC_LEN + 1, "52:54:00:%02x:%02x:%02x", h >> 16 & 0xff, h >> 8 & 0xff, h & 0xff);
}
