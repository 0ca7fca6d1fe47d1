/* qemu.h: running the loaded guest on QEMU: what it is given, how it is started, and how its end becomes bhyve's exit status. */
#ifndef KVMLOAD_QEMU_H
#define KVMLOAD_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "confine.h"
#include "disk.h"
#include "handoff.h"
#include "stop.h"
#include "vm_exit.h"
#include "vmopt.h"

struct argv;
struct console;

#define QEMU_MAX_DISKS DISK_UNITS_MAX
#define QEMU_STOP_WAIT_MS (STOP_POWERDOWN_S * 1000) /* ACPI power-down, then kill */
#define QEMU_DEFAULT_FIRMWARE "/usr/share/qemu/qboot.rom"

enum qemu_accel { QEMU_ACCEL_KVM, QEMU_ACCEL_TCG };

/* Descriptor numbers QEMU finds its inherited files at (the argv names them); the disks come later, over QMP. */
#define QEMU_FD_RAM     3
#define QEMU_FD_QMP     4
#define QEMU_FD_SERIAL  5
#define QEMU_FD_LOG     6
#define QEMU_FD_BIOS    7  /* the firmware and the stub, opened by kvmload: QEMU may not reach their paths */
#define QEMU_FD_STUB    8
#define QEMU_FD_TAP     9  /* --net tap:NAME, attached by kvmload */
#define QEMU_NFDS       (QEMU_FD_TAP - QEMU_FD_RAM + 1)  /* QEMU_FD_RAM .. QEMU_FD_TAP */

/* The pc machine's first free PCI slot (-nodefaults: 0 the host bridge, 1 the PIIX3): disk i at this + i, then the NIC. */
#define QEMU_PCI_SLOT0 2

/* One guest disk: the chain kvmload opened (disk.h) and, unless read-only, layer 0 opened for writing. */
struct qemu_disk {
	const struct disk_info *info;
	int rw_fd; /* -1: the guest gets the disk read-only */
};

struct qemu_spec {
	const char *qemu;     /* the program: $KVMLOAD_QEMU, else qemu-system-x86_64 on PATH */
	const char *vmname;   /* QEMU's -name */
	const char *firmware; /* $KVMLOAD_FIRMWARE, else qboot */
	const char *stub;     /* kvmload-pvh.elf */
	uint64_t memsize;     /* bytes of the memfd, lowmem then highmem */
	bool core;            /* -C: guest memory in QEMU's core dumps too */
	struct qemu_disk disks[QEMU_MAX_DISKS];
	int ndisks;
	bool ro;              /* --ro: every disk read-only for the guest (no rw_fd is opened) */
	int cpus;
	const char *net;      /* "none", "user" or "tap:IFNAME" */
	char mac[VMOPT_MAC_LEN + 1]; /* the guest's network address (--mac, else from the VM's name) */
	enum qemu_accel accel;
	const struct confine_user *user; /* who QEMU runs as (confine.h) */
	int verbose;
};

/* A QMP command that hands the disks to QEMU: its name, its arguments (JSON), the descriptor it carries. */
struct qemu_cmd {
	const char *name;
	char *args;     /* the caller's to free (qemu_disk_cmds_free) */
	int fd;         /* sent with it (SCM_RIGHTS, add-fd), -1 when none */
	int disk;       /* the -d it is for, for messages */
	bool hmp;       /* a human-monitor-command, whose text ends in "OK" when it worked */
};
#define QEMU_MAX_CMDS (QEMU_MAX_DISKS * (2 * DISK_MAX_LAYERS + 2))

/*
 * The commands that give QEMU s's disks, in order, into cmds (QEMU_MAX_CMDS
 * of them): for each disk its files' descriptors into an fd set (add-fd: the
 * read-only one, and for a written image its writable one too, so QEMU finds
 * the mode it asks for), a node for each layer from the deepest (backing the
 * one below, or null, so nothing is opened by a name read in a header; a
 * probed raw image the guest writes is a drive QEMU probes too, drive_add:
 * see qemu_disk.c), then its virtio-blk device at PCI slot QEMU_PCI_SLOT0 + i.
 * Returns how many, or -ENOMEM.
 */
int qemu_disk_cmds(const struct qemu_spec *s, struct qemu_cmd *cmds);
void qemu_disk_cmds_free(struct qemu_cmd *cmds, int n);

/*
 * QEMU's argument vector into out (the caller's to argv_free): stopped (-S),
 * with everything but what the loader decides (the disks, the hand-off in
 * guest memory).  Returns 0 or -ENOMEM.
 */
int qemu_argv(const struct qemu_spec *s, struct argv *out);

/*
 * Before anything is loaded: what QEMU would refuse (qemu_preflight), then
 * the program, the firmware and the stub exist and QEMU's user may use
 * /dev/kvm (qemu_confine_plan), then QEMU asked when the process has a
 * memory limit (qemu_preflight_ask).  Returns 0, -ERANGE (a usage error) or
 * -ENOENT, with err saying what is wrong: the option and the limit, or what
 * is missing and what to install.
 */
int qemu_check(const struct qemu_spec *s, char *err, size_t errlen);

/*
 * What QEMU would refuse under s->accel, from the host as it is now (nothing
 * cached): --net tap:NAME that is no existing tap kvmload may attach to for
 * QEMU (qemu_tap_open), more --cpus than KVM runs (KVM_CAP_MAX_VCPUS,
 * /dev/kvm opened read-only for the query with --accel kvm), and -m that the
 * pc machine cannot hold under the accelerator (8 KiB units, one KVM memory
 * slot, the vCPU's physical address width with the 64-bit PCI window) or would
 * move from where kvmload's memory map puts it (AMD's 1 TiB relocation), or
 * that this process may not map (RLIMIT_AS).  Runs no program; the message
 * names the option and the limit.  Returns 0 or -ERANGE.
 */
int qemu_preflight(const struct qemu_spec *s, char *err, size_t errlen);

/*
 * Only under a finite RLIMIT_AS or RLIMIT_DATA (what QEMU needs beyond the
 * guest's RAM is QEMU's to know): start QEMU once, stopped (-S), confined as
 * the run's (qemu_confine_enter: its user, its limit), with the run's
 * accelerator, vCPU, -smp, machine, firmware and -m on a sparse memfd of the
 * same size, and ask it to quit.  After qemu_check found the program and the
 * firmware.  Returns 0 (also when it could not ask) or -ERANGE with QEMU's
 * own words.
 */
int qemu_preflight_ask(const struct qemu_spec *s, char *err, size_t errlen);

/* How QEMU is confined (qemu_confine.c): worked out before fork, applied in the child. */
struct qemu_confine {
	struct confine_user user; /* who QEMU runs as (spec->user) */
	gid_t groups[1];          /* its only supplementary group: /dev/kvm's, under --accel kvm as root */
	int ngroups;
	bool kvm;                 /* /dev/kvm in its private /dev */
	bool netns;               /* a network namespace of its own (all but --net user) */
	rlim_t as_limit;          /* RLIMIT_AS: the guest's RAM and what QEMU needs beside it */
};

/*
 * Before fork: QEMU's user, group and memory limit for s (NSS and stat are
 * no business of a forked child).  Under --accel kvm as root, /dev/kvm must
 * be usable by the user or by the group that owns it (not root's).  0, or
 * -EACCES with err naming the node and the user.
 */
int qemu_confine_plan(const struct qemu_spec *s, struct qemu_confine *c, char *err, size_t errlen);

/*
 * In the forked child, before exec (async-signal-safe): as root, new mount,
 * IPC and (c->netns) network namespaces, / read-only beneath empty tmpfs
 * over the writable and private directories and a /dev of a few nodes; then
 * the memory limit, then confine_drop (c->user, c->groups).  The
 * parent-death signal is cleared by the change of uid: the caller arms it
 * again.  0 or -errno.
 */
int qemu_confine_enter(const struct qemu_confine *c);

/* What QEMU's child is confined by, at the numbers its descriptors have in kvmload. */
struct qemu_confined {
	const struct qemu_confine *conf;
	int log_fd; /* TCG's log pipe (given to QEMU's user), or -1 */
	int err_w;  /* where a failure is said: QEMU's standard error to be */
};

/*
 * spawn_spec.in_child of QEMU's child (async-signal-safe), for the run and
 * the pre-flight's question alike: the log pipe its user's, then
 * qemu_confine_enter (spawn_child arms the death signal again after it).
 * 0, or -errno said on err_w.
 */
int qemu_confine_spawned(void *arg);

/*
 * Attach to the existing tap name (never make one: a tap that is not
 * persistent was just made, and is closed again) as QEMU will use it
 * (IFF_TAP, IFF_NO_PI, IFF_VNET_HDR).  The descriptor (close-on-exec), or
 * -errno (-ENODEV: no such tap).
 */
int qemu_tap_open(const char *name);

/*
 * QEMU's "info registers" for one vCPU (human-monitor-command with
 * cpu-index; text NUL-terminated, as qmp_msg.text is): 1 when it is vCPU
 * cpu's dump and that vCPU sits in HLT with interrupts off (HLT=1, IF clear
 * in RFL= or EFL=), which nothing inside the guest can wake; 0 when it is
 * cpu's and the vCPU runs; -EPROTO when it is not one dump, of cpu.
 */
int qemu_cpu_halted(const char *text, int cpu);

struct qemu; /* a QEMU process kvmload supervises (qemu_run.c) */

/*
 * Start QEMU stopped (-S) on the guest memory memfd (inherited, nothing
 * copied), confined (qemu_confine_enter), with its firmware, the PVH entry
 * stub, COM1, QMP and the NIC: it builds its machine while the view comes up
 * and the loader runs.  The stub's image, read from the descriptor QEMU gets,
 * goes into *stub for the hand-off.  s must stay valid (its disks are read at
 * qemu_run).  *out is set before QEMU is forked, so that signal handlers that
 * read it (qemu_kill) find QEMU as soon as it exists.  Returns 0, or -errno
 * after one line on stderr with *out NULL again (set with every signal held).
 */
int qemu_start(struct qemu *volatile *out, const struct qemu_spec *s, int memfd, struct handoff_stub *stub);

/*
 * While the loader runs: a descriptor that is readable when QEMU needs
 * attention, and that attention (its monitor's greeting answered, its log
 * read).  qemu_watch returns 0, or -ECHILD once QEMU has ended (reaped; what
 * it said and its status wait for qemu_run).
 */
int qemu_watch_fd(const struct qemu *q);
int qemu_watch(struct qemu *q);

/*
 * Async-signal-safe, idempotent: QEMU killed and reaped, both through its
 * pidfd (the load failed, or kvmload is ending).  NULL: nothing.
 */
void qemu_kill(struct qemu *q);

/* Everything of q let go; the caller first makes q unreachable to signal handlers. */
void qemu_free(struct qemu *q);

/*
 * Hand the loaded guest to QEMU and supervise it to the end: the disks
 * (qemu_disk_cmds; the view is gone by now, so QEMU gets no disk while
 * anything else reads it), then "cont"; COM1 on the console, QMP events and
 * polls.  As root, kvmload keeps CAP_KILL alone from here on.  SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT are taken over (blocked and read from a
 * signalfd): before the guest runs they stop QEMU at once; then the first
 * asks the guest to power off through ACPI, a second or QEMU_STOP_WAIT_MS kill
 * QEMU.  Returns bhyve's status with one line on stderr saying what happened
 * (QEMU's own words before it when it refused a disk or ended early), and in
 * *killed_by the signal that had to end QEMU by force (0 when none): the
 * caller cleans up and ends by that signal.  QEMU has been reaped; q is the
 * caller's to qemu_free.
 */
enum vm_exit qemu_run(struct qemu *q, struct console *cons, int *killed_by);

#endif
