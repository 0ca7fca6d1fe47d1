/* conf.h: the VM definitions of kvmload.conf(5) and how a disk's identity selects one. */
#ifndef KVMLOAD_HOTPLUG_CONF_H
#define KVMLOAD_HOTPLUG_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The stable disk identities a VM may name, each backed by one udev property. */
enum conf_id {
	CONF_ID_DISK_UUID, /* ID_PART_TABLE_UUID: GPT disk GUID or MBR signature */
	CONF_ID_PART_UUID, /* ID_PART_ENTRY_UUID: GPT partition GUID, or MBR XXXXXXXX-NN */
	CONF_ID_FS_LABEL,  /* ID_FS_LABEL: UFS volume name */
	CONF_ID_FS_UUID,   /* ID_FS_UUID: UFS fs_id, 16 hex digits */
	CONF_ID_SERIAL,    /* ID_SERIAL: the drive's serial */
	CONF_ID_COUNT
};

/* Config key and udev property of each identity. */
const char *conf_id_key(enum conf_id id);
const char *conf_id_property(enum conf_id id);

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
	bool ro;          /* kvmload --ro: the running guest gets its disks read-only */
	bool restart;     /* load again after a reset (status 0) */
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
 * properties.  Every identity key a VM names must match.  Returns the VM,
 * NULL when none matches, and sets *ambiguous when more than one does
 * (then NULL is returned too).
 */
typedef const char *(*conf_prop_fn)(void *dev, const char *property);
const struct conf_vm *conf_match(const struct conf *c, conf_prop_fn prop, void *dev,
				 bool *ambiguous);

struct conf_vm *conf_find(const struct conf *c, const char *name);

#endif
