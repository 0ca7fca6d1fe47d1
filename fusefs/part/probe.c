/* probe.c: partition tables: found and MBR read by libblkid; GPT and BSD disklabels read here, as FreeBSD does. */
#include <blkid/blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freebsd_part.h"
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

/* UEFI GPT layout (UEFI 2.10, 5.3): a header sector and an array of entries. */
#define GPT_OFF_HDRSIZE 12u
#define GPT_OFF_HDRCRC 16u
#define GPT_OFF_MYLBA 24u
#define GPT_OFF_ALTLBA 32u
#define GPT_OFF_FIRST 40u
#define GPT_OFF_LAST 48u
#define GPT_OFF_ENTLBA 72u
#define GPT_OFF_NENT 80u
#define GPT_OFF_ENTSIZE 84u
#define GPT_OFF_ENTCRC 88u
#define GPT_HDR_MIN 92u
#define GPT_ENT_MIN 128u
#define GPT_ENT_FIRST 32u
#define GPT_ENT_LAST 40u
#define GPT_ENT_NAME 56u
#define GPT_NAME_UNITS 36u
#define GPT_MAX_TABLE (1u << 20) /* 8192 entries of 128 bytes; FreeBSD's loader reads 32 KiB */

#define MBR_TYPE_GPT 0xee

/* A GPT header that passed probe_gpt_header, with its checked entry array. */
struct probe_gpt {
	uint64_t lba, alt, first, last, entlba;
	uint32_t nent, entsize;
	uint8_t *ents; /* nent * entsize bytes */
};

struct probe_list {
	struct probe_part *v;
	size_t n, cap;
};

static const struct {
	const char *guid, *name;
} probe_gpt_names[] = {
	{ FREEBSD_GPT_BOOT, "freebsd-boot" },
	{ FREEBSD_GPT_LABEL, "freebsd" },
	{ FREEBSD_GPT_SWAP, "freebsd-swap" },
	{ FREEBSD_GPT_UFS, "freebsd-ufs" },
	{ FREEBSD_GPT_VINUM, "freebsd-vinum" },
	{ FREEBSD_GPT_ZFS, "freebsd-zfs" },
	{ FREEBSD_GPT_NANDFS, "freebsd-nandfs" },
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
		pp->size = pp->recorded = (uint64_t)psize * secsize;
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

/* CRC-32 (IEEE 802.3, reflected), which GPT uses; a nibble table keeps it short. */
static uint32_t probe_crc32(const uint8_t *p, size_t n)
{
	static const uint32_t t[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
		0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		c = (c >> 4) ^ t[c & 15];
		c = (c >> 4) ^ t[c & 15];
	}
	return ~c;
}

/*
 * Put the entry's LBAs first..last on the disk.  An entry that runs past the
 * end keeps its recorded size (its file system must still fit it) and is
 * served up to the end; one that ends before it starts, starts past the end
 * or lies over the GPT (g, NULL for MBR) is listed and refused.  Each is logged.
 */
static void probe_place(const struct blkdev *bd, struct probe_part *pp, uint64_t first, uint64_t last,
			const struct probe_gpt *g)
{
	uint64_t nsec = bd->size / SECTOR;

	if (last < first) {
		log_warnx("%s: %s: partition ends before it starts (first LBA %llu, last LBA %llu), not served",
			  bd->path, pp->name, (unsigned long long)first, (unsigned long long)last);
		pp->refused = true;
		return;
	}
	if (g) {
		uint64_t es = ((uint64_t)g->nent * g->entsize + SECTOR - 1) / SECTOR;
		bool primary = g->alt > g->lba; /* else g is the backup and alt the primary */
		struct {
			uint64_t a, b;
			const char *what;
		} tbl[] = {
			{ 0, 0, "protective MBR" },
			{ g->lba, g->lba, primary ? "GPT header" : "backup GPT header" },
			{ g->entlba, g->entlba + es - 1, primary ? "GPT entries" : "backup GPT entries" },
			{ g->alt, g->alt, primary ? "backup GPT header" : "GPT header" },
			/* The other copy's entries: beside its header, where every GPT writer puts them. */
			{ primary ? g->alt - es : g->alt + 1, primary ? g->alt - 1 : g->alt + es,
			  primary ? "backup GPT entries" : "GPT entries" },
		};
		size_t n = sizeof(tbl) / sizeof(tbl[0]);

		if (primary ? g->alt < es : g->alt > UINT64_MAX - es)
			n--; /* a nonsense other header: no entries to guess */
		for (size_t i = 0; i < n; i++) {
			char where[48], beyond[64] = "";

			if (first > tbl[i].b || last < tbl[i].a)
				continue;
			if (tbl[i].a == tbl[i].b)
				snprintf(where, sizeof(where), "LBA %llu", (unsigned long long)tbl[i].a);
			else
				snprintf(where, sizeof(where), "LBAs %llu..%llu", (unsigned long long)tbl[i].a,
					 (unsigned long long)tbl[i].b);
			if (last >= nsec)
				snprintf(beyond, sizeof(beyond), " and runs past the end of the disk (%llu sectors)",
					 (unsigned long long)nsec);
			log_warnx("%s: %s: partition (LBAs %llu..%llu) lies over the %s at %s%s, not served",
				  bd->path, pp->name, (unsigned long long)first, (unsigned long long)last, tbl[i].what,
				  where, beyond);
			pp->refused = true;
			return;
		}
	}
	if (first >= nsec) {
		log_warnx("%s: %s: partition starts past the end of the disk (first LBA %llu, "
			  "the disk has %llu sectors), not served", bd->path, pp->name, (unsigned long long)first, (unsigned long long)nsec);
		pp->refused = true;
		return;
	}
	pp->start = first * SECTOR;
	pp->recorded = last - first >= UINT64_MAX / SECTOR ? UINT64_MAX / SECTOR * SECTOR
							     : (last - first + 1) * SECTOR;
	pp->size = pp->recorded;
	if (last >= nsec) {
		pp->size = bd->size - pp->start;
		log_warnx("%s: %s: partition runs past the end of the disk (LBAs %llu..%llu, the disk has %llu sectors): "
			  "its first %llu bytes are served, reads past them fail with EIO",
			  bd->path, pp->name, (unsigned long long)first, (unsigned long long)last,
			  (unsigned long long)nsec, (unsigned long long)pp->size);
	} else if (g && (first < g->first || last > g->last)) {
		log_warnx("%s: %s: partition (LBAs %llu..%llu) lies outside the GPT's usable LBAs %llu..%llu",
			  bd->path, pp->name, (unsigned long long)first, (unsigned long long)last,
			  (unsigned long long)g->first, (unsigned long long)g->last);
	}
}

/* One entry of a root MBR table, then the BSD label it may hold. */
static int probe_entry(const struct blkdev *bd, unsigned unit, blkid_partition par, struct probe_list *out)
{
	struct probe_part *pp = probe_add(out);
	blkid_loff_t start = blkid_partition_get_start(par);
	blkid_loff_t size = blkid_partition_get_size(par);
	int type = blkid_partition_get_type(par);
	int r;

	if (!pp)
		return -ENOMEM;
	snprintf(pp->name, sizeof(pp->name), "disk%us%d", unit, blkid_partition_get_partno(par));
	pp->scheme = PROBE_MBR;
	snprintf(pp->type, sizeof(pp->type), "0x%02x", type & 0xff);
	pp->container = probe_mbr_extended(type);
	if (start < 0 || size <= 0) {
		log_warnx("%s: %s: partition has no sectors (start %lld, size %lld), not served", bd->path,
			  pp->name, (long long)start, (long long)size);
		pp->refused = true;
		return 0;
	}
	probe_place(bd, pp, (uint64_t)start, (uint64_t)start + (uint64_t)size - 1, NULL);
	if (pp->refused || type != FREEBSD_MBR_TYPE)
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

/*
 * Check the GPT header at `lba` as FreeBSD's loader does (signature, size,
 * checksum, own LBA, the entry array and its checksum), but not its usable
 * LBAs against the disk's size: the loader boots a disk cut short.  0 with g
 * filled (the caller frees g->ents); 1, why set, for a bad header; 2 without
 * a GPT signature; -errno.
 */
static int probe_gpt_header(const struct blkdev *bd, uint64_t lba, struct probe_gpt *g, char *why,
			    size_t whylen)
{
	uint8_t sec[SECTOR];
	char sig[8];
	struct span s = span_make(sec, sizeof(sec));
	uint32_t hsize, crc, ecrc, sum;
	uint64_t nsec = bd->size / SECTOR, ebytes;
	int r;

	r = blkdev_read(bd, sec, sizeof(sec), lba * SECTOR);
	if (r < 0)
		return r;
	if (span_copy(s, 0, sig, sizeof(sig)) || memcmp(sig, "EFI PART", sizeof(sig)) != 0) {
		snprintf(why, whylen, "no GPT signature");
		return 2;
	}
	if (span_le32(s, GPT_OFF_HDRSIZE, &hsize) || hsize < GPT_HDR_MIN || hsize > SECTOR) {
		snprintf(why, whylen, "header size %u", hsize);
		return 1;
	}
	snprintf(why, whylen, "header cut short"); /* what a failed span read below means */
	if (span_le32(s, GPT_OFF_HDRCRC, &crc))
		return 1;
	memset(sec + GPT_OFF_HDRCRC, 0, sizeof(crc));
	sum = probe_crc32(sec, hsize);
	if (sum != crc) {
		snprintf(why, whylen, "header checksum 0x%08x, computed 0x%08x", crc, sum);
		return 1;
	}
	if (span_le64(s, GPT_OFF_MYLBA, &g->lba) || span_le64(s, GPT_OFF_ALTLBA, &g->alt) ||
	    span_le64(s, GPT_OFF_FIRST, &g->first) || span_le64(s, GPT_OFF_LAST, &g->last) ||
	    span_le64(s, GPT_OFF_ENTLBA, &g->entlba) || span_le32(s, GPT_OFF_NENT, &g->nent) ||
	    span_le32(s, GPT_OFF_ENTSIZE, &g->entsize) || span_le32(s, GPT_OFF_ENTCRC, &ecrc))
		return 1;
	if (g->lba != lba || g->alt == lba) {
		snprintf(why, whylen, "header gives its own LBA as %llu, the other header's as %llu",
			 (unsigned long long)g->lba, (unsigned long long)g->alt);
		return 1;
	}
	ebytes = (uint64_t)g->nent * g->entsize;
	if (g->nent == 0 || g->entsize < GPT_ENT_MIN || SECTOR % g->entsize || ebytes > GPT_MAX_TABLE) {
		snprintf(why, whylen, "%u entries of %u bytes", g->nent, g->entsize);
		return 1;
	}
	if (g->entlba >= nsec || (ebytes + SECTOR - 1) / SECTOR > nsec - g->entlba) {
		snprintf(why, whylen, "entries at LBA %llu run past the end of the disk",
			 (unsigned long long)g->entlba);
		return 1;
	}
	g->ents = malloc(ebytes);
	if (!g->ents)
		return -ENOMEM;
	r = blkdev_read(bd, g->ents, ebytes, g->entlba * SECTOR);
	sum = r < 0 ? 0 : probe_crc32(g->ents, ebytes);
	if (r == 0 && sum != ecrc) {
		snprintf(why, whylen, "entry array checksum 0x%08x, computed 0x%08x", ecrc, sum);
		r = 1;
	}
	if (r != 0) {
		free(g->ents);
		g->ents = NULL;
	}
	return r;
}

/* A GPT name: up to 36 UTF-16LE units, as UTF-8; a lone surrogate becomes U+FFFD. */
static void probe_gpt_name(struct span e, char *out, size_t len)
{
	size_t o = 0;

	for (uint32_t i = 0; i < GPT_NAME_UNITS; i++) {
		uint16_t u, lo;
		uint32_t cp;
		char enc[4];
		size_t n;

		if (span_le16(e, GPT_ENT_NAME + 2 * i, &u) || u == 0)
			break;
		cp = u;
		if (u >= 0xd800 && u < 0xdc00 && i + 1 < GPT_NAME_UNITS &&
		    !span_le16(e, GPT_ENT_NAME + 2 * (i + 1), &lo) && lo >= 0xdc00 && lo < 0xe000) {
			cp = 0x10000 + ((uint32_t)(u - 0xd800) << 10) + (lo - 0xdc00);
			i++;
		} else if (u >= 0xd800 && u < 0xe000) {
			cp = 0xfffd;
		}
		if (cp < 0x80) {
			enc[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			enc[0] = (char)(0xc0 | cp >> 6);
			enc[1] = (char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			enc[0] = (char)(0xe0 | cp >> 12);
			enc[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			enc[2] = (char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			enc[0] = (char)(0xf0 | cp >> 18);
			enc[1] = (char)(0x80 | (cp >> 12 & 0x3f));
			enc[2] = (char)(0x80 | (cp >> 6 & 0x3f));
			enc[3] = (char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		if (o + n >= len)
			break;
		memcpy(out + o, enc, n);
		o += n;
	}
	out[o] = '\0';
}

/* Every used entry of a checked GPT, then the BSD label a freebsd (a500) partition may hold. */
static int probe_gpt_entries(const struct blkdev *bd, unsigned unit, const struct probe_gpt *g,
			     struct probe_list *out)
{
	struct span all = span_make(g->ents, (size_t)g->nent * g->entsize);

	for (uint32_t i = 0; i < g->nent; i++) {
		static const uint8_t unused[16];
		uint8_t t[16];
		uint64_t first, last;
		struct span e;
		struct probe_part *pp;
		char guid[40];
		int r;

		if (span_sub(all, (uint64_t)i * g->entsize, g->entsize, &e) || span_copy(e, 0, t, sizeof(t)) ||
		    span_le64(e, GPT_ENT_FIRST, &first) || span_le64(e, GPT_ENT_LAST, &last))
			return -EINVAL; /* cannot happen: probe_gpt_header sized the array */
		if (memcmp(t, unused, sizeof(t)) == 0)
			continue;
		pp = probe_add(out);
		if (!pp)
			return -ENOMEM;
		snprintf(pp->name, sizeof(pp->name), "disk%up%u", unit, i + 1);
		pp->scheme = PROBE_GPT;
		/* The first three fields are little-endian, the last two big-endian. */
		snprintf(guid, sizeof(guid), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 t[3], t[2], t[1], t[0], t[5], t[4], t[7], t[6], t[8], t[9], t[10], t[11], t[12], t[13],
			 t[14], t[15]);
		probe_gpt_type(pp->type, sizeof(pp->type), guid);
		probe_gpt_name(e, pp->label, sizeof(pp->label));
		probe_place(bd, pp, first, last, g);
		if (pp->refused || strcmp(guid, FREEBSD_GPT_LABEL) != 0)
			continue;
		char prefix[sizeof(pp->name)];
		uint64_t hstart = pp->start, hsize = pp->size;
		size_t at = out->n - 1;

		memcpy(prefix, pp->name, sizeof(prefix));
		r = probe_bsdlabel(bd, hstart, hsize, prefix, out);
		if (r < 0)
			return r;
		if (r > 0)
			out->v[at].container = true;
	}
	return 0;
}

/*
 * The GPT, read here rather than by libblkid, which drops an entry outside
 * the usable LBAs and the whole table of a disk cut short without a word;
 * FreeBSD's loader reads both.  The primary header first, then the backup in
 * the disk's last sector.  Called for a disk with a protective MBR, so a
 * missing GPT is worth a word.  1 when there is no usable GPT, 0, or -errno.
 */
static int probe_gpt(const struct blkdev *bd, unsigned unit, struct probe_list *out)
{
	uint64_t nsec = bd->size / SECTOR;
	struct probe_gpt g = { 0 };
	char why1[96], why2[96];
	int r1, r2 = 0;

	if (nsec < 3)
		return 1;
	r1 = probe_gpt_header(bd, 1, &g, why1, sizeof(why1));
	if (r1 < 0)
		return r1;
	if (r1 > 0) {
		r2 = probe_gpt_header(bd, nsec - 1, &g, why2, sizeof(why2));
		if (r2 < 0)
			return r2;
		if (r2 > 0) {
			log_warnx("%s: GPT header at LBA 1: %s; backup GPT header at LBA %llu: %s; "
				  "no partition table read", bd->path, why1, (unsigned long long)(nsec - 1), why2);
			return 1;
		}
		log_warnx("%s: GPT header at LBA 1: %s; using the backup GPT header at LBA %llu", bd->path, why1,
			  (unsigned long long)(nsec - 1));
	}
	if (g.lba == 1 && g.alt >= nsec)
		log_warnx("%s: the GPT header puts its backup at LBA %llu, past the end of the disk (%llu sectors): "
			  "the disk is shorter than its partition table says",
			  bd->path, (unsigned long long)g.alt, (unsigned long long)nsec);
	r1 = probe_gpt_entries(bd, unit, &g, out);
	free(g.ents);
	return r1;
}

/* 1 when sector 0 is an MBR with a protective (0xee) entry: a GPT disk to libblkid and FreeBSD. */
static int probe_pmbr(const struct blkdev *bd)
{
	uint8_t sec[SECTOR];
	struct span s = span_make(sec, sizeof(sec));
	uint16_t magic;
	int r;

	if (bd->size < SECTOR)
		return 0;
	r = blkdev_read(bd, sec, sizeof(sec), 0);
	if (r < 0)
		return r;
	if (span_le16(s, 510, &magic) || magic != 0xaa55)
		return 0;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t type;

		if (!span_u8(s, 446 + 16 * i + 4, &type) && type == MBR_TYPE_GPT)
			return 1;
	}
	return 0;
}

static int probe_tables(const struct blkdev *bd, unsigned unit, blkid_probe pr, struct probe_list *out)
{
	blkid_partlist ls = blkid_probe_get_partitions(pr);
	blkid_parttable root;
	const char *ttype;
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
	if (ttype && strcmp(ttype, "gpt") == 0)
		return probe_gpt(bd, unit, out);
	if (!ttype || strcmp(ttype, "dos") != 0) {
		log_warnx("%s: partition table type '%s' is not supported", bd->path, ttype ? ttype : "?");
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		int r;

		/* libblkid also lists BSD label entries, renumbered; probe_bsdlabel names those. */
		if (!par || blkid_partition_get_table(par) != root)
			continue;
		r = probe_entry(bd, unit, par, out);
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
	/* Nothing is found on such a disk; say why before "no UFS partition" does. */
	if (bd->size == 0)
		log_warnx("%s: the disk is empty (0 bytes)", bd->path);
	else if (bd->size < SECTOR)
		log_warnx("%s: the disk is too small for a partition table or a file system (%llu byte%s)", bd->path,
			  (unsigned long long)bd->size, bd->size == 1 ? "" : "s");
	if (blkid_probe_set_device(pr, bd->fd, 0, (blkid_loff_t)bd->size) < 0) {
		r = -EIO;
		goto done;
	}
	blkid_probe_enable_superblocks(pr, 0);
	/*
	 * Without BLKID_PARTS_ENTRY_DETAILS: it describes the disk itself as a
	 * partition of another, which libblkid looks up in /sys and /dev (the
	 * confined reader opens neither); the entries of its tables come anyway.
	 */
	blkid_probe_enable_partitions(pr, 1);
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
		/* libblkid finds no table where it refused a GPT: see whether FreeBSD's loader reads one. */
		r = probe_pmbr(bd);
		if (r == 1)
			r = probe_gpt(bd, unit, &out);
		else if (r == 0)
			r = 1;
	}
	if (r == 1) {
		struct probe_part *pp = probe_add(&out);

		r = pp ? 0 : -ENOMEM;
		if (pp) {
			snprintf(pp->name, sizeof(pp->name), "disk%u", unit);
			snprintf(pp->type, sizeof(pp->type), "-");
			pp->size = pp->recorded = bd->size;
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
