/* probe.c: partition tables via libblkid, plus our own BSD disklabel reader (libblkid loses the letters). */
#include <blkid/blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "probe.h"
#include "span.h"

#define SECTOR 512u

/* FreeBSD <sys/disklabel.h> layout, little-endian on x86: the label sits in sector 1 of its slice. */
#define BSD_LABEL_OFF 512u
#define BSD_MAGIC 0x82564557u
#define BSD_OFF_SECSIZE 40u
#define BSD_OFF_MAGIC2 132u
#define BSD_OFF_NPARTS 138u
#define BSD_OFF_PARTS 148u
#define BSD_PART_SIZE 16u
#define BSD_MAXPARTS 20u
#define BSD_RAW_PART 2u /* 'c': the whole slice */

#define GPT_TYPE_BSDLABEL "516e7cb4-6ecf-11d6-8ff8-00022d09712b"
#define MBR_TYPE_FREEBSD 0xa5

struct probe_list {
	struct probe_part *v;
	size_t n, cap;
};

static const struct {
	const char *guid, *name;
} probe_gpt_names[] = {
	{ "83bd6b9d-7f41-11dc-be0b-001560b84f0f", "freebsd-boot" },
	{ GPT_TYPE_BSDLABEL, "freebsd" },
	{ "516e7cb5-6ecf-11d6-8ff8-00022d09712b", "freebsd-swap" },
	{ "516e7cb6-6ecf-11d6-8ff8-00022d09712b", "freebsd-ufs" },
	{ "516e7cb8-6ecf-11d6-8ff8-00022d09712b", "freebsd-vinum" },
	{ "516e7cba-6ecf-11d6-8ff8-00022d09712b", "freebsd-zfs" },
	{ "74ba7dd9-a689-11e1-bd04-00e081286acf", "freebsd-nandfs" },
	{ "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "efi" },
	{ "21686148-6449-6e6f-744e-656564454649", "bios-boot" },
	{ "024dee41-33e7-11d3-9d69-0008c781f39f", "mbr" },
	{ "0fc63daf-8483-4772-8e79-3d69d8477de4", "linux-data" },
	{ "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "linux-swap" },
	{ "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "ms-basic-data" },
};

const char *probe_scheme_name(enum probe_scheme scheme)
{
	switch (scheme) {
	case PROBE_GPT:
		return "gpt";
	case PROBE_MBR:
		return "mbr";
	case PROBE_BSD:
		return "bsd";
	case PROBE_NONE:
		break;
	}
	return "none";
}

static struct probe_part *probe_add(struct probe_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct probe_part *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static void probe_bsd_type(char *out, size_t len, uint8_t fstype)
{
	switch (fstype) {
	case 1:
		snprintf(out, len, "freebsd-swap");
		break;
	case 7:
		snprintf(out, len, "freebsd-ufs");
		break;
	case 14:
		snprintf(out, len, "freebsd-vinum");
		break;
	case 27:
		snprintf(out, len, "freebsd-zfs");
		break;
	default:
		snprintf(out, len, "bsd-%u", fstype);
		break;
	}
}

/*
 * Read the BSD disklabel in the window [start, start + size) and append its
 * entries as PREFIX<letter>.  Returns 1 when a valid label was found, 0 when
 * there is none, -errno on read errors.
 */
static int probe_bsdlabel(const struct blkdev *bd, uint64_t start, uint64_t size,
			  const char *prefix, struct probe_list *out)
{
	uint8_t sec[SECTOR];
	struct span s;
	uint32_t magic, magic2, secsize, rawoff = 0;
	uint16_t nparts, sum = 0;
	int r;

	if (size < BSD_LABEL_OFF + SECTOR)
		return 0;
	r = blkdev_read(bd, sec, sizeof(sec), start + BSD_LABEL_OFF);
	if (r < 0)
		return r;
	s = span_make(sec, sizeof(sec));
	if (span_le32(s, 0, &magic) || span_le32(s, BSD_OFF_MAGIC2, &magic2) ||
	    span_le32(s, BSD_OFF_SECSIZE, &secsize) || span_le16(s, BSD_OFF_NPARTS, &nparts))
		return 0;
	if (magic != BSD_MAGIC || magic2 != BSD_MAGIC)
		return 0;
	if (nparts == 0 || nparts > BSD_MAXPARTS || secsize < 512 || secsize > 4096 ||
	    (secsize & (secsize - 1))) {
		log_warnx("%s: BSD label ignored: d_npartitions %u, d_secsize %u", prefix, nparts, secsize);
		return 0;
	}
	/* The checksum is the XOR of every 16-bit word up to the end of the partition table. */
	for (uint32_t off = 0; off < BSD_OFF_PARTS + nparts * BSD_PART_SIZE; off += 2) {
		uint16_t w;

		if (span_le16(s, off, &w))
			return 0;
		sum ^= w;
	}
	if (sum != 0) {
		log_warnx("%s: BSD label ignored: bad d_checksum", prefix);
		return 0;
	}
	/* Old labels hold absolute offsets; 'c' (the whole slice) tells which kind this is. */
	if (nparts > BSD_RAW_PART &&
	    span_le32(s, BSD_OFF_PARTS + BSD_RAW_PART * BSD_PART_SIZE + 4, &rawoff))
		return 0;
	for (uint32_t i = 0; i < nparts; i++) {
		uint64_t p = BSD_OFF_PARTS + (uint64_t)i * BSD_PART_SIZE;
		uint32_t psize, poff;
		uint8_t fstype;
		struct probe_part *pp;

		if (span_le32(s, p, &psize) || span_le32(s, p + 4, &poff) || span_u8(s, p + 12, &fstype))
			return 0;
		if (i == BSD_RAW_PART || fstype == 0 || psize == 0)
			continue;
		if (poff < rawoff || ((uint64_t)(poff - rawoff) + psize) * secsize > size) {
			log_warnx("%s%c: BSD partition outside its slice (p_offset %u, p_size %u), ignored",
				  prefix, 'a' + i, poff, psize);
			continue;
		}
		pp = probe_add(out);
		if (!pp)
			return -ENOMEM;
		snprintf(pp->name, sizeof(pp->name), "%s%c", prefix, 'a' + i);
		pp->scheme = PROBE_BSD;
		probe_bsd_type(pp->type, sizeof(pp->type), fstype);
		pp->start = start + (uint64_t)(poff - rawoff) * secsize;
		pp->size = (uint64_t)psize * secsize;
	}
	return 1;
}

static void probe_gpt_type(char *out, size_t len, const char *guid)
{
	for (size_t i = 0; i < sizeof(probe_gpt_names) / sizeof(probe_gpt_names[0]); i++) {
		if (strcasecmp(guid, probe_gpt_names[i].guid) == 0) {
			snprintf(out, len, "%s", probe_gpt_names[i].name);
			return;
		}
	}
	snprintf(out, len, "%s", guid);
}

static bool probe_mbr_extended(int type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

/* One entry of a root GPT or MBR table, then the BSD label it may hold. */
static int probe_entry(const struct blkdev *bd, unsigned unit, enum probe_scheme scheme,
		       blkid_partition par, struct probe_list *out)
{
	struct probe_part *pp = probe_add(out);
	int partno = blkid_partition_get_partno(par);
	blkid_loff_t start = blkid_partition_get_start(par);
	blkid_loff_t size = blkid_partition_get_size(par);
	bool holder;
	int r;

	if (!pp)
		return -ENOMEM;
	snprintf(pp->name, sizeof(pp->name), "disk%u%c%d", unit, scheme == PROBE_GPT ? 'p' : 's', partno);
	pp->scheme = scheme;
	if (start < 0 || size < 0 || (uint64_t)start > bd->size / SECTOR) {
		log_warnx("%s: %s: partition starts past the end of the disk, ignored", bd->path, pp->name);
		out->n--;
		return 0;
	}
	pp->start = (uint64_t)start * SECTOR;
	pp->size = (uint64_t)size * SECTOR;
	if (pp->size > bd->size - pp->start) {
		log_warnx("%s: %s: partition runs past the end of the disk, clipped", bd->path, pp->name);
		pp->size = bd->size - pp->start;
	}
	if (scheme == PROBE_GPT) {
		const char *guid = blkid_partition_get_type_string(par);
		const char *name = blkid_partition_get_name(par);

		probe_gpt_type(pp->type, sizeof(pp->type), guid ? guid : "-");
		if (name)
			snprintf(pp->label, sizeof(pp->label), "%s", name);
		holder = guid && strcasecmp(guid, GPT_TYPE_BSDLABEL) == 0;
	} else {
		int type = blkid_partition_get_type(par);

		snprintf(pp->type, sizeof(pp->type), "0x%02x", type & 0xff);
		pp->container = probe_mbr_extended(type);
		holder = type == MBR_TYPE_FREEBSD;
	}
	if (!holder)
		return 0;
	char prefix[sizeof(pp->name)];
	uint64_t hstart = pp->start, hsize = pp->size;
	size_t at = out->n - 1;

	memcpy(prefix, pp->name, sizeof(prefix));
	r = probe_bsdlabel(bd, hstart, hsize, prefix, out);
	if (r > 0)
		out->v[at].container = true;
	return r < 0 ? r : 0;
}

static int probe_tables(const struct blkdev *bd, unsigned unit, blkid_probe pr, struct probe_list *out)
{
	blkid_partlist ls = blkid_probe_get_partitions(pr);
	blkid_parttable root;
	const char *ttype;
	enum probe_scheme scheme;
	int n;

	if (!ls || (n = blkid_partlist_numof_partitions(ls)) < 0 || !(root = blkid_partlist_get_table(ls)))
		return 1; /* no table: a bare disk */
	ttype = blkid_parttable_get_type(root);
	if (ttype && strcmp(ttype, "bsd") == 0) {
		/* A "dangerously dedicated" disk: the label covers the disk, entries are diskNa. */
		char prefix[16];
		int r;

		snprintf(prefix, sizeof(prefix), "disk%u", unit);
		r = probe_bsdlabel(bd, 0, bd->size, prefix, out);
		return r < 0 ? r : 0;
	}
	if (ttype && strcmp(ttype, "gpt") == 0) {
		scheme = PROBE_GPT;
	} else if (ttype && strcmp(ttype, "dos") == 0) {
		scheme = PROBE_MBR;
	} else {
		log_warnx("%s: partition table type '%s' is not supported", bd->path, ttype ? ttype : "?");
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		int r;

		/* libblkid also lists BSD label entries, renumbered; probe_bsdlabel names those. */
		if (!par || blkid_partition_get_table(par) != root)
			continue;
		r = probe_entry(bd, unit, scheme, par, out);
		if (r < 0)
			return r;
	}
	return 0;
}

int probe_disk(const struct blkdev *bd, unsigned unit, struct probe_part **parts, size_t *nparts)
{
	struct probe_list out = { 0 };
	blkid_probe pr = blkid_new_probe();
	int r;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, bd->fd, 0, (blkid_loff_t)bd->size) < 0) {
		r = -EIO;
		goto done;
	}
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	r = blkid_do_safeprobe(pr);
	if (r == -2) {
		log_warnx("%s: more than one partition table found (ambiguous)", bd->path);
		r = -EINVAL;
		goto done;
	}
	if (r < 0) {
		log_warnx("%s: cannot read the partition table", bd->path);
		r = -EIO;
		goto done;
	}
	r = r == 1 ? 1 : probe_tables(bd, unit, pr, &out);
	if (r == 1) {
		struct probe_part *pp = probe_add(&out);

		r = pp ? 0 : -ENOMEM;
		if (pp) {
			snprintf(pp->name, sizeof(pp->name), "disk%u", unit);
			snprintf(pp->type, sizeof(pp->type), "-");
			pp->size = bd->size;
		}
	}
done:
	blkid_free_probe(pr);
	if (r < 0) {
		free(out.v);
		return r;
	}
	*parts = out.v;
	*nparts = out.n;
	return 0;
}
