/* options.h: kvmload's command line: what each option set, read once by options_parse. */
#ifndef KVMLOAD_OPTIONS_H
#define KVMLOAD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "confine.h"
#include "loader.h"
#include "qemu.h"

struct opts {
	const char *cons;
	const char *disks[LOADER_NDISKS];
	const char *formats[LOADER_NDISKS]; /* --format before each -d; NULL: detect */
	int disk_fds[LOADER_NDISKS];        /* --disk-fd N:PATH: PATH opened by our caller; else -1 */
	const char *format;
	int ndisks;
	char **env;
	int nenv;
	const char *host;
	const char *loader;
	const char *loader_dir;
	const char *view;       /* --view: an existing view, not ours to unmount */
	const char *boot_part;  /* --boot-part: the view directory host-file callbacks read */
	bool loader_dir_given;  /* --loader-dir: must exist, unlike the installed default */
	bool trust_guest;       /* --trust-guest-loader: needed for a guest's plugin only with --no-sandbox */
	bool no_sandbox;        /* --no-sandbox: debugging only */
	uint64_t memsize;
	unsigned gmem_flags;
	bool load_only;
	bool builtin;           /* --run builtin: the in-process machine instead of QEMU */
	int release_fd;         /* --view-release-fd: tell the view's owner when to take it down */
	bool console_socket;    /* --console-socket: the console also on RUN/VM/console.sock */
	struct qemu_spec qemu;  /* --accel, --cpus, --net, --ro and the files QEMU needs */
	bool qemu_late;         /* $KVMLOAD_QEMU_START=late: QEMU starts once the loader is done */
	const char *user_name;  /* --user: who the view's daemon and QEMU run as; NULL: kvmload */
	struct confine_user user;
	int verbose;
	int loader_timeout;     /* --loader-timeout: seconds the whole load may take; 0: no limit */
	const char *vmname;
};

/*
 * Fills o from the command line, or exits: 0 after --help or -V, EX_USAGE
 * (64) with a message naming the bad option or value and, for a malformed
 * command line, the usage lines on stderr; EX_NOUSER when --user names no
 * user.  o->env is calloc'd and lives as long as kvmload.
 */
void options_parse(int argc, char **argv, struct opts *o);

#endif
