/* loader.h: struct loader, the one context kvmload passes to every callback and phase. */
#ifndef KVMLOAD_LOADER_H
#define KVMLOAD_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "disk.h"

#include "boot_regs.h"
#include "console.h"
#include "footprint.h"
#include "gmem.h"
#include "plugin.h"
#include "plugin_interp.h"

#define LOADER_NDISKS DISK_UNITS_MAX
#define LOADER_MAX_HOSTFILES 64 /* open host-file handles a plugin may hold at once */

struct loader_disk {
	struct disk_info info; /* what main opened: the chain, its exporter */
	int fd;            /* info.fd, O_RDONLY, the guest-visible bytes: guest disks are never written */
	uint64_t size;     /* bytes (file size or BLKGETSIZE64) */
	uint32_t secsize;  /* logical sector size reported to the plugin */
	const char *path;
};

/* Why the plugin was left through the recovery point. */
enum loader_leave {
	LEAVE_NONE,
	LEAVE_EXIT,   /* exit callback: exit_value holds USERBOOT_EXIT_* or 0 */
	LEAVE_EXEC,   /* exec callback: regs.rip holds the entry */
	LEAVE_SWAP,   /* swap_interpreter: swap_interp holds the request */
	LEAVE_ERROR,  /* a callback found the plugin's request unserviceable (message logged) */
};

struct loader {
	struct console cons;
	struct gmem gmem;

	struct loader_disk disks[LOADER_NDISKS];
	int ndisks;

	int host_fd;        /* root of host0: (the -h tree); -1 when none */
	unsigned nhostfiles; /* handles currently open */

	char **env;         /* getenv(i) answers env[i]; bhyveload's order (env.c) */
	int nenv;

	struct boot_regs regs;
	struct footprint written; /* what copyin wrote: the hand-off carries and checks it */

	struct plugin_recover recover;
	enum loader_leave leave;
	int exit_value;
	char swap_interp[PLUGIN_INTERP_MAX + 1];
};

/* env.c: the loader environment in bhyveload's order: boot_serial=1, smbios.bios.vendor=BHYVE, then -e values reversed. */
/* Every user string must pass env_var_valid (env_var.h); env_build refuses others with -EINVAL. */
int env_build(struct loader *l, char *const *user, int nuser);
void env_free(struct loader *l);

#endif
