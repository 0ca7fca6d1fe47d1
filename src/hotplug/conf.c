/* conf.c: reading /etc/kvmload/NAME.conf files with libinih, every error as file:line, and identity matching. */
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "confine.h" /* CONFINE_USER_MAX */
#include "env_var.h"
#include "memsize.h"
#include "vmopt.h"

/* How a configured identity value and a device's property compare. */
enum conf_cmp {
	CMP_EXACT,
	CMP_NOCASE, /* UUIDs: sgdisk prints them upper-case, blkid lower-case */
	CMP_NUMBER, /* pool GUIDs: conf_zpool_guid's forms, equal as numbers */
};

static const struct {
	const char *key, *property;
	enum conf_cmp cmp;
	const char *fs_type; /* the device's ID_FS_TYPE must be this too, or NULL */
} conf_ids[CONF_ID_COUNT] = {
	[CONF_ID_DISK_UUID] = { "disk-uuid", "ID_PART_TABLE_UUID", CMP_NOCASE, NULL },
	[CONF_ID_PART_UUID] = { "part-uuid", "ID_PART_ENTRY_UUID", CMP_NOCASE, NULL },
	[CONF_ID_FS_LABEL] = { "fs-label", "ID_FS_LABEL", CMP_EXACT, NULL },
	[CONF_ID_FS_UUID] = { "fs-uuid", "ID_FS_UUID", CMP_NOCASE, NULL },
	[CONF_ID_SERIAL] = { "serial", "ID_SERIAL", CMP_EXACT, NULL },
	/* libblkid's zfs prober: the pool name as the label, the pool GUID as the UUID. */
	[CONF_ID_ZPOOL] = { "zpool", "ID_FS_LABEL", CMP_EXACT, CONF_ZFS_MEMBER },
	[CONF_ID_ZPOOL_GUID] = { "zpool-guid", "ID_FS_UUID", CMP_NUMBER, CONF_ZFS_MEMBER },
};

const char *conf_id_key(enum conf_id id)
{
	return conf_ids[id].key;
}

const char *conf_id_property(enum conf_id id)
{
	return conf_ids[id].property;
}

enum conf_kind { K_ID, K_ENV, K_DISK, K_STRING, K_INT, K_BOOL };

static const char *conf_disk_uuid_problem(const char *v);
static const char *conf_part_uuid_problem(const char *v);
static const char *conf_fs_label_problem(const char *v);
static const char *conf_fs_uuid_problem(const char *v);
static const char *conf_serial_problem(const char *v);
static const char *conf_zpool_problem(const char *v);
static const char *conf_zpool_guid_problem(const char *v);
static const char *conf_zpool_members_problem(const char *v);
static const char *conf_zpool_wait_problem(const char *v);
static const char *conf_memory_problem(const char *v);
static const char *conf_cpus_problem(const char *v);
static const char *conf_net_problem(const char *v);
static const char *conf_accel_problem(const char *v);
static const char *conf_disk_problem(const char *v);
static const char *conf_user_problem(const char *v);
static const char *conf_mac_problem(const char *v);
static const char *conf_loader_timeout_problem(const char *v);

static const struct conf_key {
	const char *name;
	enum conf_kind kind;
	int id;        /* K_ID */
	size_t offset; /* K_STRING: the char * field; K_INT: the int; K_BOOL: the bool */
	const char *(*problem)(const char *value); /* why a value is bad, or NULL */
} conf_keys[] = {
	{ "disk-uuid", K_ID, CONF_ID_DISK_UUID, 0, conf_disk_uuid_problem },
	{ "part-uuid", K_ID, CONF_ID_PART_UUID, 0, conf_part_uuid_problem },
	{ "fs-label", K_ID, CONF_ID_FS_LABEL, 0, conf_fs_label_problem },
	{ "fs-uuid", K_ID, CONF_ID_FS_UUID, 0, conf_fs_uuid_problem },
	{ "serial", K_ID, CONF_ID_SERIAL, 0, conf_serial_problem },
	{ "zpool", K_ID, CONF_ID_ZPOOL, 0, conf_zpool_problem },
	{ "zpool-guid", K_ID, CONF_ID_ZPOOL_GUID, 0, conf_zpool_guid_problem },
	{ "zpool-members", K_INT, 0, offsetof(struct conf_vm, zpool_members),
	  conf_zpool_members_problem },
	{ "zpool-wait", K_INT, 0, offsetof(struct conf_vm, zpool_wait), conf_zpool_wait_problem },
	{ "memory", K_STRING, 0, offsetof(struct conf_vm, memory), conf_memory_problem },
	{ "env", K_ENV, 0, 0, NULL },
	{ "console", K_STRING, 0, offsetof(struct conf_vm, console), NULL },
	{ "loader", K_STRING, 0, offsetof(struct conf_vm, loader), NULL },
	{ "loader-dir", K_STRING, 0, offsetof(struct conf_vm, loader_dir), NULL },
	{ "boot-part", K_STRING, 0, offsetof(struct conf_vm, boot_part), NULL },
	{ "restart", K_BOOL, 0, offsetof(struct conf_vm, restart), NULL },
	{ "cpus", K_INT, 0, offsetof(struct conf_vm, cpus), conf_cpus_problem },
	{ "net", K_STRING, 0, offsetof(struct conf_vm, net), conf_net_problem },
	{ "accel", K_STRING, 0, offsetof(struct conf_vm, accel), conf_accel_problem },
	{ "ro", K_BOOL, 0, offsetof(struct conf_vm, ro), NULL },
	{ "user", K_STRING, 0, offsetof(struct conf_vm, user), conf_user_problem },
	{ "mac", K_STRING, 0, offsetof(struct conf_vm, mac), conf_mac_problem },
	{ "loader-timeout", K_INT, 0, offsetof(struct conf_vm, loader_timeout),
	  conf_loader_timeout_problem },
	/* Its name is checked by conf_check_formats (conf_disk.c, with libcommon's disk rules). */
	{ "format", K_STRING, 0, offsetof(struct conf_vm, format), NULL },
	{ "disk", K_DISK, 0, 0, conf_disk_problem },
};

/* One file being parsed: the reader counts lines so messages can name them. */
struct conf_parse {
	struct conf *c;
	const char *file;
	FILE *f;
	char *buf;
	size_t cap;
	int lineno;
	struct conf_vm *cur; /* NULL before the first header or after a bad one */
	bool oom;
};

void conf_error(struct conf *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	c->errors++;
	fprintf(c->err, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
}

/* The same rule as kvmload's vmname: it becomes a file name under the runtime directory. */
struct conf_vm *conf_find(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nvms; i++)
		if (strcmp(c->vms[i].name, name) == 0)
			return &c->vms[i];
	return NULL;
}

static void conf_section(struct conf_parse *p, char *text)
{
	struct conf *c = p->c;
	struct conf_vm *vm, *dup;
	char *name;

	p->cur = NULL;
	if (strncmp(text, "vm", 2) != 0 || (text[2] != ' ' && text[2] != '\t')) {
		conf_error(c, p->file, p->lineno, "unknown section [%s] (expected [vm NAME])", text);
		return;
	}
	name = text + 2 + strspn(text + 2, " \t");
	if (!vmopt_name_valid(name)) {
		conf_error(c, p->file, p->lineno, "vm name '%s': %s", name, VMOPT_NAME_RULE);
		return;
	}
	dup = conf_find(c, name);
	if (dup) {
		conf_error(c, p->file, p->lineno, "duplicate vm name '%s' (first defined at %s:%d)",
			   name, dup->file, dup->line);
		return;
	}
	vm = realloc(c->vms, (c->nvms + 1) * sizeof(*vm));
	if (!vm) {
		p->oom = true;
		return;
	}
	c->vms = vm;
	vm = &c->vms[c->nvms];
	memset(vm, 0, sizeof(*vm));
	vm->restart = true;
	vm->zpool_members = 1;
	vm->zpool_wait = CONF_ZPOOL_WAIT_DEFAULT;
	vm->line = p->lineno;
	vm->name = strdup(name);
	vm->file = strdup(p->file);
	if (!vm->name || !vm->file) {
		free(vm->name);
		free(vm->file);
		p->oom = true;
		return;
	}
	c->nvms++;
	p->cur = vm;
}

/*
 * Section headers are read here rather than from inih's section argument so
 * that an empty [vm NAME] (which inih never reports) is still seen, with its
 * line.  inih takes the text between '[' and the first ']' as it is.
 */
static void conf_header(struct conf_parse *p, const char *line)
{
	const char *s = line + strspn(line, " \t");
	const char *end;
	char *text;

	if (*s != '[')
		return;
	end = strchr(s + 1, ']');
	if (!end)
		return; /* inih reports the syntax error */
	text = strndup(s + 1, (size_t)(end - s - 1));
	if (!text) {
		p->oom = true;
		return;
	}
	conf_section(p, text);
	free(text);
}

/* inih's fgets-style reader: whole lines, counted; an over-long line is an error, not two lines. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_parse *p = stream;
	ssize_t n = getline(&p->buf, &p->cap, p->f);

	if (n < 0)
		return NULL;
	p->lineno++;
	if (n > 0 && p->buf[n - 1] == '\n')
		p->buf[--n] = '\0';
	if (n > 0 && p->buf[n - 1] == '\r')
		p->buf[--n] = '\0';
	if (n > num - 3) {
		conf_error(p->c, p->file, p->lineno, "line too long (at most %d bytes)", num - 3);
		str[0] = '\0';
		return str;
	}
	conf_header(p, p->buf);
	memcpy(str, p->buf, (size_t)n + 1);
	return str;
}

static bool conf_bool(const char *v, bool *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" }, *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, true;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, true;
	}
	return false;
}

/*
 * Identity values in the form udev prints them, so that a value that can never
 * equal a device's property is a --check error instead of a VM that never starts.
 */

/* At least n hex digits at s (callers check what follows them). */
static bool conf_hex(const char *s, size_t n)
{
	return strspn(s, "0123456789abcdefABCDEF") >= n;
}

/* A GUID as libblkid prints it, 8-4-4-4-12 hex digits (either case: see conf_ids). */
static bool conf_guid(const char *s)
{
	static const unsigned char groups[] = { 8, 4, 4, 4, 12 };

	for (size_t i = 0; i < sizeof(groups); i++) {
		if (!conf_hex(s, groups[i]))
			return false;
		s += groups[i];
		if (*s != (i + 1 < sizeof(groups) ? '-' : '\0'))
			return false;
		s += *s == '-';
	}
	return true;
}

/* libblkid prints an MBR disk signature as %08x. */
static bool conf_mbr_signature(const char *s)
{
	return conf_hex(s, 8) && s[8] == '\0';
}

static const char *conf_disk_uuid_problem(const char *v)
{
	if (conf_guid(v) || conf_mbr_signature(v))
		return NULL;
	return "expected a GPT disk GUID (XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX) "
	       "or an MBR disk signature (8 hex digits)";
}

/* An MBR slice has no GUID: libblkid makes ID_PART_ENTRY_UUID "%08x-%02x", signature-number. */
static const char *conf_part_uuid_problem(const char *v)
{
	if (conf_guid(v) || (conf_hex(v, 8) && v[8] == '-' && conf_hex(v + 9, 2) && v[11] == '\0'))
		return NULL;
	return "expected a GPT partition GUID (XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX) "
	       "or an MBR slice's XXXXXXXX-NN (signature-number, in hex)";
}

/* libblkid prints UFS's fs_id (two 32-bit words) as %08x%08x. */
static const char *conf_fs_uuid_problem(const char *v)
{
	return conf_hex(v, 16) && v[16] == '\0' ? NULL
						: "expected a UFS file system id (16 hex digits)";
}

/*
 * fs_volname is 32 bytes (MAXVOLLEN).  udev's ID_FS_LABEL is blkid_safe_string's copy,
 * with whitespace made '_', so a name with a space never matches; and FreeBSD makes the
 * name a path, /dev/ufs/NAME, so it holds no '/'.  Bytes above 0x7f pass: udev keeps
 * valid UTF-8.
 */
static const char *conf_fs_label_problem(const char *v)
{
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= 32;

	for (const unsigned char *p = (const unsigned char *)v; ok && *p; p++)
		ok = *p > ' ' && *p != 0x7f && *p != '/';
	return ok ? NULL
		  : "expected a UFS volume name: 1 to 32 bytes, printable, no '/' or whitespace "
		    "(udev shows whitespace as '_')";
}

/*
 * ID_SERIAL has no one format (usb_id, scsi_id, ata_id or a virtio disk's serial attribute
 * build it, and the last may keep spaces), but udev replaces every control character.
 * Bytes above 0x7f pass: udev keeps valid UTF-8.
 */
static const char *conf_serial_problem(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return "expected printable characters (udev prints no control characters)";
	return NULL;
}

/*
 * A pool name as ZFS takes it (zfs_namecheck.c's pool_namecheck): a letter, then letters,
 * digits and _ - . : (ZFS allows a space too, but udev shows whitespace in a label as '_',
 * so such a name never matches).  At most 255 bytes (ZFS_MAX_DATASET_NAME_LEN).
 */
static const char *conf_zpool_problem(const char *v)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t n = strlen(v);

	if (n <= 255 && v[0] && strchr(alpha, v[0]) &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:") == n)
		return NULL;
	return "expected a ZFS pool name: a letter, then letters, digits, _ - . or : "
	       "(udev shows whitespace as '_')";
}

bool conf_zpool_guid(const char *s, uint64_t *guid)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? "0123456789abcdefABCDEF" : "0123456789";
	size_t n;
	char *end;

	s += hex ? 2 : 0;
	n = strspn(s, digits);
	/* strtoull alone would take signs, spaces and a second 0x. */
	if (n == 0 || s[n] != '\0')
		return false;
	errno = 0;
	*guid = strtoull(s, &end, hex ? 16 : 10);
	return errno == 0 && *end == '\0' && *guid != 0;
}

static const char *conf_zpool_guid_problem(const char *v)
{
	uint64_t guid;

	return conf_zpool_guid(v, &guid) ? NULL
					 : "expected a ZFS pool GUID, as zpool get guid and blkid "
					   "print it: a decimal number from 1 to 18446744073709551615 "
					   "(or 0x and hex digits)";
}

/* Digits only, from lo to hi, so that what is used is exactly the number checked. */
static bool conf_number(const char *v, int lo, int hi)
{
	size_t n = strspn(v, "0123456789");
	long x;

	if (n == 0 || n > 9 || v[n] != '\0')
		return false;
	x = strtol(v, NULL, 10);
	return x >= lo && x <= hi;
}

static const char *conf_zpool_members_problem(const char *v)
{
	return conf_number(v, 1, CONF_ZPOOL_MEMBERS_MAX)
		       ? NULL
		       : "expected the number of the pool's devices, 1 to 32 (kvmload takes 32 disks)";
}

static const char *conf_zpool_wait_problem(const char *v)
{
	return conf_number(v, 1, CONF_ZPOOL_WAIT_MAX) ? NULL : "expected 1 to 3600 seconds";
}

/* The rule and words of kvmload -m (memsize.h), exactly what kvmload takes and says. */
static const char *conf_memory_problem(const char *v)
{
	uint64_t size;
	const char *why;

	return memsize_arg(v, &size, &why) < 0 ? why : NULL;
}

/* Digits only, so that what kvmload is given is exactly the number checked here. */
static const char *conf_cpus_problem(const char *v)
{
	return vmopt_cpus(v) < 0 ? VMOPT_CPUS_RULE : NULL;
}

static const char *conf_net_problem(const char *v)
{
	return vmopt_net_valid(v) ? NULL : VMOPT_NET_RULE;
}

static const char *conf_accel_problem(const char *v)
{
	return vmopt_accel_valid(v) ? NULL : VMOPT_ACCEL_RULE;
}

static const char *conf_mac_problem(const char *v)
{
	return vmopt_mac_valid(v) ? NULL : VMOPT_MAC_RULE;
}

/* kvmload --loader-timeout's rule and words. */
static const char *conf_loader_timeout_problem(const char *v)
{
	return vmopt_loader_timeout(v) < 0 ? VMOPT_LOADER_TIMEOUT_RULE : NULL;
}

/* The name's form here; whether the host has it, in conf_check_users and at add. */
static const char *conf_user_problem(const char *v)
{
	size_t n = strlen(v);

	if (n < 1 || n > CONFINE_USER_MAX || v[0] == '-' || strspn(v, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return "expected a user name: 1-32 of A-Z a-z 0-9 . _ -, not starting with -";
	return NULL;
}

/* The supervisor runs from / (a systemd unit): a relative path would name nothing stable. */
static const char *conf_disk_problem(const char *v)
{
	return v[0] == '/' ? NULL : "expected an absolute path";
}

static int conf_set(struct conf_parse *p, const struct conf_key *k, const char *value)
{
	struct conf_vm *vm = p->cur;
	const char *problem = k->problem ? k->problem(value) : NULL;
	char *copy, **env;
	struct conf_disk *disks;

	if (problem) {
		conf_error(p->c, p->file, p->lineno, "%s '%s': %s", k->name, value, problem);
		return 0;
	}
	switch (k->kind) {
	case K_ENV:
		if (!env_var_valid(value)) {
			conf_error(p->c, p->file, p->lineno, "env '%s': expected NAME=VALUE", value);
			return 0;
		}
		break;
	case K_DISK:
		if (vm->ndisks == CONF_DISKS_MAX) {
			conf_error(p->c, p->file, p->lineno, "disk '%s': more than %d disk lines in "
				   "[vm %s] (kvmload takes 32 disks, the device's first)", value,
				   CONF_DISKS_MAX, vm->name);
			return 0;
		}
		break;
	case K_BOOL:
		if (!conf_bool(value, (bool *)((char *)vm + k->offset)))
			conf_error(p->c, p->file, p->lineno, "%s '%s': expected yes or no", k->name, value);
		return 0;
	case K_INT:
		*(int *)((char *)vm + k->offset) = atoi(value); /* checked by k->problem */
		return 0;
	case K_ID:
	case K_STRING:
		break;
	}
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	switch (k->kind) {
	case K_ID:
		vm->id[k->id] = copy;
		break;
	case K_ENV:
		env = realloc(vm->env, ((size_t)vm->nenv + 1) * sizeof(*env));
		if (!env) {
			free(copy);
			return -ENOMEM;
		}
		vm->env = env;
		vm->env[vm->nenv++] = copy;
		break;
	case K_DISK:
		disks = realloc(vm->disks, ((size_t)vm->ndisks + 1) * sizeof(*disks));
		if (!disks) {
			free(copy);
			return -ENOMEM;
		}
		vm->disks = disks;
		vm->disks[vm->ndisks++] = (struct conf_disk){ copy, p->lineno };
		break;
	case K_STRING:
		*(char **)((char *)vm + k->offset) = copy;
		break;
	case K_INT:
	case K_BOOL:
		break;
	}
	return 0;
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	const struct conf_key *k = NULL;
	unsigned bit;

	if (!p->cur) {
		/* A bad header was reported already; its keys add nothing. */
		if (!*section)
			conf_error(p->c, p->file, p->lineno, "key '%s' outside a [vm NAME] section", name);
		return 1;
	}
	for (size_t i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			k = &conf_keys[i];
	if (!k) {
		conf_error(p->c, p->file, p->lineno, "unknown key '%s' in [vm %s]", name, p->cur->name);
		return 1;
	}
	bit = 1u << (k - conf_keys);
	if (k->kind != K_ENV && k->kind != K_DISK && (p->cur->seen & bit)) {
		conf_error(p->c, p->file, p->lineno, "'%s' given twice in [vm %s]", name, p->cur->name);
		return 1;
	}
	p->cur->seen |= bit;
	if (!p->cur->zpool_line &&
	    (strcmp(k->name, "zpool-members") == 0 || strcmp(k->name, "zpool-wait") == 0)) {
		p->cur->zpool_line = p->lineno;
		p->cur->zpool_key = k->name;
	}
	if (strcmp(k->name, "format") == 0)
		p->cur->format_line = p->lineno;
	if (!*value) {
		conf_error(p->c, p->file, p->lineno, "'%s' has an empty value", name);
		return 1;
	}
	if (conf_set(p, k, value) < 0)
		p->oom = true;
	return 1;
}

/* A configured value and what a device (or another VM) has, compared as conf_ids says. */
static bool conf_id_equal(int id, const char *want, const char *have)
{
	uint64_t a, b;

	switch (conf_ids[id].cmp) {
	case CMP_NOCASE:
		return strcasecmp(want, have) == 0;
	case CMP_NUMBER:
		return conf_zpool_guid(want, &a) && conf_zpool_guid(have, &b) && a == b;
	case CMP_EXACT:
		break;
	}
	return strcmp(want, have) == 0;
}

static bool conf_same_identity(const struct conf_vm *a, const struct conf_vm *b)
{
	for (int i = 0; i < CONF_ID_COUNT; i++) {
		if (!a->id[i] != !b->id[i])
			return false;
		if (a->id[i] && !conf_id_equal(i, a->id[i], b->id[i]))
			return false;
	}
	return true;
}

bool conf_vm_zpool(const struct conf_vm *vm)
{
	return vm->id[CONF_ID_ZPOOL] || vm->id[CONF_ID_ZPOOL_GUID];
}

/* Checks that need a whole VM: run once all files are read. */
static void conf_check_vms(struct conf *c)
{
	for (size_t i = 0; i < c->nvms; i++) {
		const struct conf_vm *vm = &c->vms[i];
		bool any = false;

		for (int k = 0; k < CONF_ID_COUNT; k++)
			any |= vm->id[k] != NULL;
		if (!any) {
			conf_error(c, vm->file, vm->line, "[vm %s] names no disk identity "
				   "(disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or "
				   "zpool-guid)", vm->name);
			continue;
		}
		if (vm->zpool_line && !conf_vm_zpool(vm))
			conf_error(c, vm->file, vm->zpool_line,
				   "'%s' in [vm %s], which names no pool (zpool or zpool-guid)",
				   vm->zpool_key, vm->name);
		/* As kvmload refuses --mac without a network. */
		if (vm->mac && (!vm->net || strcmp(vm->net, "none") == 0))
			conf_error(c, vm->file, vm->line, "mac %s in [vm %s], which has no network (net = user or "
				   "tap:IFNAME)", vm->mac, vm->name);
		for (size_t j = 0; j < i; j++)
			if (conf_same_identity(vm, &c->vms[j]))
				conf_error(c, vm->file, vm->line,
					   "[vm %s] names the same disk identity as [vm %s] (%s:%d)",
					   vm->name, c->vms[j].name, c->vms[j].file, c->vms[j].line);
	}
}

static int conf_file(struct conf *c, const char *path)
{
	struct conf_parse p = { .c = c, .file = path };
	int r;

	p.f = fopen(path, "re");
	if (!p.f) {
		conf_error(c, path, 0, "%s", strerror(errno));
		return 0;
	}
	r = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	fclose(p.f);
	free(p.buf);
	if (p.oom || r == -2)
		return -ENOMEM;
	if (r > 0)
		conf_error(c, path, r, "syntax error (expected [vm NAME], NAME = VALUE or a comment)");
	return 0;
}

static int conf_select(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0 &&
	       (d->d_type == DT_REG || d->d_type == DT_LNK || d->d_type == DT_UNKNOWN);
}

int conf_load(struct conf *c, const char *dir, FILE *err)
{
	struct dirent **names;
	int n, r = 0;

	memset(c, 0, sizeof(*c));
	c->err = err;
	n = scandir(dir, &names, conf_select, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char *path = NULL;

		if (r == 0 && asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = conf_file(c, path);
		free(path);
		free(names[i]);
	}
	free(names);
	if (r == 0)
		conf_check_vms(c);
	return r;
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->nvms; i++) {
		struct conf_vm *vm = &c->vms[i];

		free(vm->name);
		free(vm->file);
		for (int k = 0; k < CONF_ID_COUNT; k++)
			free(vm->id[k]);
		free(vm->memory);
		for (int e = 0; e < vm->nenv; e++)
			free(vm->env[e]);
		free(vm->env);
		free(vm->console);
		free(vm->loader);
		free(vm->loader_dir);
		free(vm->boot_part);
		free(vm->net);
		free(vm->accel);
		free(vm->user);
		free(vm->mac);
		free(vm->format);
		for (int d = 0; d < vm->ndisks; d++)
			free(vm->disks[d].path);
		free(vm->disks);
	}
	free(c->vms);
	memset(c, 0, sizeof(*c));
}

static bool conf_vm_matches(const struct conf_vm *vm, conf_prop_fn prop, void *dev)
{
	bool any = false;

	for (int i = 0; i < CONF_ID_COUNT; i++) {
		const char *have;

		if (!vm->id[i])
			continue;
		have = prop(dev, conf_ids[i].property);
		if (!have || !conf_id_equal(i, vm->id[i], have))
			return false;
		if (conf_ids[i].fs_type) {
			have = prop(dev, "ID_FS_TYPE");
			if (!have || strcmp(have, conf_ids[i].fs_type) != 0)
				return false;
		}
		any = true;
	}
	return any;
}

const struct conf_vm *conf_match(const struct conf *c, conf_prop_fn prop, void *dev,
				 bool *ambiguous)
{
	const struct conf_vm *found = NULL;

	*ambiguous = false;
	for (size_t i = 0; i < c->nvms; i++) {
		if (!conf_vm_matches(&c->vms[i], prop, dev))
			continue;
		if (found) {
			*ambiguous = true;
			return NULL;
		}
		found = &c->vms[i];
	}
	return found;
}
