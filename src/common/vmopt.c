/* vmopt.c: the rules for a VM's name, vCPUs, network and accelerator, for kvmload and kvmload-hotplug. */
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

int vmopt_cpus(const char *s)
{
	size_t n = strspn(s, "0123456789");
	int v;

	if (n == 0 || n > 3 || s[n])
		return -1;
	v = atoi(s);
	return v >= 1 && v <= VMOPT_CPUS_MAX ? v : -1;
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
