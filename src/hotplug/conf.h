/* conf.h: the VM definitions of kvmload.conf(5) and how a disk's identity selects one. */
#ifndef KVMLOAD_HOTPLUG_CONF_H
#define KVMLOAD_HOTPLUG_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "disk.h"

/* The stable disk identities a VM may name, each backed by one udev property. */
enum conf_id {
	CONF_ID_DISK_UUID,  /* ID_PART_TABLE_UUID: GPT disk GUID or MBR signature */
	CONF_ID_PART_UUID,  /* ID_PART_ENTRY_UUID: GPT partition GUID, or MBR XXXXXXXX-NN */
	CONF_ID_FS_LABEL,   /* ID_FS_LABEL: UFS volume name */
	CONF_ID_FS_UUID,    /* ID_FS_UUID: UFS fs_id, 16 hex digits */
	CONF_ID_SERIAL,     /* ID_SERIAL: the drive's serial */
	CONF_ID_ZPOOL,      /* ID_FS_LABEL of a zfs_member: the ZFS pool's name */
	CONF_ID_ZPOOL_GUID, /* ID_FS_UUID of a zfs_member: the pool GUID, compared as a number */
	CONF_ID_COUNT
};

/* libblkid's ID_FS_TYPE for a device holding a ZFS vdev label. */
#define CONF_ZFS_MEMBER "zfs_member"
#define CONF_ZPOOL_MEMBERS_MAX DISK_UNITS_MAX /* kvmload's and kvmload-fs's most disks */
#define CONF_ZPOOL_WAIT_DEFAULT 30 /* seconds a pool's supervisor waits for its members */
#define CONF_ZPOOL_WAIT_MAX 3600
/* disk = lines a VM may have: kvmload takes 32 disks, and the device's comes first. */
#define CONF_DISKS_MAX (CONF_ZPOOL_MEMBERS_MAX - 1)

/* Config key and udev property of each identity. */
const char *conf_id_key(enum conf_id id);
const char *conf_id_property(enum conf_id id);

/* A disk = line: a disk the guest gets besides its device's, and where it was named. */
struct conf_disk {
	char *path;
	int line;
};

struct conf_vm {
	char *name;
	char *file; /* where its [vm NAME] header is */
	int line;
	char *id[CONF_ID_COUNT]; /* NULL: not part of the identity */
	char *memory;            /* as written; validated by memsize_arg, as kvmload -m is */
	char **env;              /* NAME=VALUE, in file order */
	int nenv;
	char *console;    /* NULL: the console log file */
	char *loader;     /* kvmload -l */
	char *loader_dir; /* kvmload --loader-dir */
	char *boot_part;  /* kvmload --boot-part */
	int cpus;         /* kvmload --cpus, 1-255; 0: not given */
	char *net;        /* kvmload --net: none, user or tap:IFNAME; validated */
	char *accel;      /* kvmload --accel: kvm or tcg */
	char *user;       /* kvmload and kvmload-fs --user; NULL: their default */
	char *mac;        /* kvmload --mac; validated */
	int loader_timeout; /* kvmload --loader-timeout, 1-86400 seconds; 0: not given */
	bool ro;          /* kvmload --ro: the running guest gets its disks read-only */
	bool restart;     /* load again after a reset (status 0) */
	char *format;     /* kvmload and kvmload-fs --format for all its disks; see conf_vm_format */
	int format_line;
	struct conf_disk *disks; /* disk =, in file order: after the device's disk(s) */
	int ndisks;
	int zpool_members;     /* pool devices the guest needs (zpool-members), default 1 */
	int zpool_wait;        /* seconds to wait for them (zpool-wait), default 30 */
	int zpool_line;        /* the first zpool-members or zpool-wait line, 0 when neither */
	const char *zpool_key; /* and which of the two it is */
	unsigned seen;    /* keys given so far (one bit per key) */
};

struct conf {
	struct conf_vm *vms;
	size_t nvms;
	int errors;
	FILE *err; /* where "file:line: message" goes */
};

/*
 * Read every *.conf file of dir in name order.  Errors are printed to err
 * as "file:line: message" and counted in c->errors.  Returns 0, or -errno
 * when the directory cannot be read (nothing printed).
 */
int conf_load(struct conf *c, const char *dir, FILE *err);
void conf_free(struct conf *c);

/*
 * The VM whose identity matches a device, given a lookup of its udev
 * properties.  Every identity key a VM names must match; zpool and
 * zpool-guid also need ID_FS_TYPE zfs_member.  Returns the VM,
 * NULL when none matches, and sets *ambiguous when more than one does
 * (then NULL is returned too).
 */
typedef const char *(*conf_prop_fn)(void *dev, const char *property);
const struct conf_vm *conf_match(const struct conf *c, conf_prop_fn prop, void *dev,
				 bool *ambiguous);

struct conf_vm *conf_find(const struct conf *c, const char *name);

/* One error, "file:line: message" on c->err, counted in c->errors. */
void conf_error(struct conf *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * conf_disk.c: a VM's disk settings by the rules of disk.h, apart from the
 * parser so that conf.c needs nothing of libcommon's disk code.
 */

/* Every format = a name kvmload --format takes (or auto); each other one is an error. */
void conf_check_formats(struct conf *c);

/* The image format every disk of vm is read as, or NULL: each disk's content says (a block device is raw). */
const char *conf_vm_format(const struct conf_vm *vm);

/*
 * --check: open each disk = of each VM with disk_open (its format, backing
 * files, exporter) and close it again; a disk kvmload would refuse (missing,
 * not a regular file or block device, a format or image it does not take) is
 * an error "file:line: disk 'PATH' in [vm NAME]: why", counted in c->errors.
 */
void conf_check_disks(struct conf *c);

/*
 * --check: what kvmload would refuse on this host: each VM's user (user =,
 * else kvmload's default) missing or root, a console = that is not a
 * terminal, a loader-dir = that is not a directory.
 */
void conf_check_host(struct conf *c);

/* vm names a ZFS pool (zpool or zpool-guid): its guest gets every member's disk. */
bool conf_vm_zpool(const struct conf_vm *vm);

/*
 * A pool GUID as zpool get guid and libblkid's ID_FS_UUID print it (decimal),
 * or 0x and hex digits; 1 to 2^64-1.  Returns false when s is none of these.
 */
bool conf_zpool_guid(const char *s, uint64_t *guid);

#endif
