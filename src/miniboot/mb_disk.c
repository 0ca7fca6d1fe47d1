/* mb_disk.c: disk 0 through diskioctl/diskread: GPT, MBR slice + BSD label, or a bare UFS disk. */
#include "freebsd_part.h"
#include "mb.h"

/* freebsd-ufs (FREEBSD_GPT_UFS) as stored on disk (mixed endian). */
static const uint8_t gpt_freebsd_ufs[16] = {
	0xb6, 0x7c, 0x6e, 0x51, 0xcf, 0x6e, 0xd6, 0x11,
	0x8f, 0xf8, 0x00, 0x02, 0x2d, 0x09, 0x71, 0x2b,
};

#define BSD_MAGIC 0x82564557u
#define BSD_MAXPARTS 20
#define GPT_MAX_TABLE (1u << 20)

int mb_disk_read(struct mb *mb, int unit, uint64_t off, void *buf, size_t len)
{
	size_t resid = len;
	int err = mb->cb->diskread(mb->arg, unit, off, buf, len, &resid);

	if (err)
		return err;
	return resid ? FBSD_EIO : 0;
}

struct disk {
	uint32_t secsz;
	uint64_t media;
	uint8_t *sec; /* one sector of scratch */
};

/* A window [start, start + len) in bytes, checked against the medium. */
static bool disk_fits(const struct disk *d, uint64_t start_sec, uint64_t nsec, uint64_t *off,
		      uint64_t *len)
{
	if (nsec == 0 || start_sec > d->media / d->secsz || nsec > d->media / d->secsz - start_sec)
		return false;
	*off = start_sec * d->secsz;
	*len = nsec * d->secsz;
	return true;
}

/* 1: found a freebsd-ufs partition, 0: no GPT, <0: -errno of a broken GPT. */
static int probe_gpt(struct mb *mb, struct disk *d, uint64_t *off, uint64_t *len)
{
	uint32_t nent, entsz;
	uint64_t tbl_lba, tbl_bytes;
	uint8_t *tbl;
	int err;

	if ((err = mb_disk_read(mb, 0, d->secsz, d->sec, d->secsz)))
		return -err;
	if (memcmp(d->sec, "EFI PART", 8) != 0)
		return 0;
	tbl_lba = mb_le64(d->sec + 72);
	nent = mb_le32(d->sec + 80);
	entsz = mb_le32(d->sec + 84);
	if (entsz < 128 || entsz % 8 || nent == 0 || (uint64_t)nent * entsz > GPT_MAX_TABLE)
		mb_fatal(mb, "disk0: bad GPT header (%u entries of %u bytes)", nent, entsz);
	tbl_bytes = ((uint64_t)nent * entsz + d->secsz - 1) / d->secsz;
	if (!disk_fits(d, tbl_lba, tbl_bytes, &tbl_lba, &tbl_bytes))
		mb_fatal(mb, "disk0: GPT partition table lies outside the disk");
	if (!(tbl = mb_alloc(mb, tbl_bytes)))
		mb_fatal(mb, "out of memory");
	if ((err = mb_disk_read(mb, 0, tbl_lba, tbl, tbl_bytes)))
		return -err;
	for (uint32_t i = 0; i < nent; i++) {
		const uint8_t *e = tbl + (uint64_t)i * entsz;
		uint64_t first = mb_le64(e + 32), last = mb_le64(e + 40);

		if (memcmp(e, gpt_freebsd_ufs, 16) != 0)
			continue;
		if (last < first || !disk_fits(d, first, last - first + 1, off, len))
			mb_fatal(mb, "disk0p%u: partition lies outside the disk", i + 1);
		mb_snprintf(mb->currdev, sizeof(mb->currdev), "disk0p%u:", i + 1);
		mb_printf(mb, "disk0: %lu bytes, %u-byte sectors, GPT\n", d->media, d->secsz);
		return 1;
	}
	mb_fatal(mb, "disk0: GPT without a freebsd-ufs partition");
}

/* Partition 'a' of the BSD label at the start of a slice; false if there is no label. */
static bool probe_label(struct mb *mb, struct disk *d, uint64_t slice_sec, uint64_t slice_nsec,
			uint64_t *off, uint64_t *len)
{
	uint16_t nparts;
	uint32_t raw_off = 0, a_size, a_off;
	int err;

	if ((err = mb_disk_read(mb, 0, (slice_sec + 1) * d->secsz, d->sec, d->secsz)))
		mb_fatal(mb, "disk0: reading the BSD label: %s", mb_strerror(err));
	if (mb_le32(d->sec) != BSD_MAGIC || mb_le32(d->sec + 132) != BSD_MAGIC)
		return false;
	nparts = mb_le16(d->sec + 138);
	if (nparts == 0 || nparts > BSD_MAXPARTS || 148u + 16u * nparts > d->secsz)
		mb_fatal(mb, "disk0: BSD label with %u partitions", nparts);
	/* Old labels hold absolute offsets; 'c' (the raw partition) tells which. */
	if (nparts > 2)
		raw_off = mb_le32(d->sec + 148 + 2 * 16 + 4);
	a_size = mb_le32(d->sec + 148);
	a_off = mb_le32(d->sec + 148 + 4);
	if (a_size == 0 || a_off < raw_off || a_off - raw_off > slice_nsec ||
	    a_size > slice_nsec - (a_off - raw_off) ||
	    !disk_fits(d, slice_sec + (a_off - raw_off), a_size, off, len))
		mb_fatal(mb, "disk0: BSD label partition a lies outside its slice");
	return true;
}

/* 1: found a FreeBSD slice, 0: no MBR or none of type 0xa5. */
static int probe_mbr(struct mb *mb, struct disk *d, uint64_t *off, uint64_t *len)
{
	uint8_t mbr[512];
	int err;

	if ((err = mb_disk_read(mb, 0, 0, mbr, sizeof(mbr))))
		return -err;
	if (mbr[510] != 0x55 || mbr[511] != 0xaa)
		return 0;
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + 446 + 16 * i;
		uint64_t start = mb_le32(e + 8), nsec = mb_le32(e + 12);

		if (e[4] != FREEBSD_MBR_TYPE)
			continue;
		if (!disk_fits(d, start, nsec, off, len))
			mb_fatal(mb, "disk0s%d: slice lies outside the disk", i + 1);
		mb_printf(mb, "disk0: %lu bytes, %u-byte sectors, MBR\n", d->media, d->secsz);
		if (probe_label(mb, d, start, nsec, off, len))
			mb_snprintf(mb->currdev, sizeof(mb->currdev), "disk0s%da:", i + 1);
		else
			mb_snprintf(mb->currdev, sizeof(mb->currdev), "disk0s%d:", i + 1);
		return 1;
	}
	return 0;
}

int mb_disk_probe(struct mb *mb)
{
	struct disk d = { 0, 0, NULL };
	uint32_t secsz = 0;
	int64_t media = 0;
	uint64_t off = 0, len = 0;
	int err, r;

	if ((err = mb->cb->diskioctl(mb->arg, 0, FBSD_DIOCGSECTORSIZE, &secsz)))
		mb_fatal(mb, "disk0: DIOCGSECTORSIZE: %s", mb_strerror(err));
	if ((err = mb->cb->diskioctl(mb->arg, 0, FBSD_DIOCGMEDIASIZE, &media)))
		mb_fatal(mb, "disk0: DIOCGMEDIASIZE: %s", mb_strerror(err));
	if (secsz < 512 || secsz > 65536 || (secsz & (secsz - 1)))
		mb_fatal(mb, "disk0: unusable sector size %u", secsz);
	if (media < (int64_t)secsz * 2)
		mb_fatal(mb, "disk0: media size %ld is too small", (long)media);
	d.secsz = secsz;
	d.media = (uint64_t)media;
	if (!(d.sec = mb_alloc(mb, secsz)))
		mb_fatal(mb, "out of memory");

	r = probe_gpt(mb, &d, &off, &len);
	if (r == 0)
		r = probe_mbr(mb, &d, &off, &len);
	if (r < 0)
		mb_fatal(mb, "disk0: %s", mb_strerror(-r));
	if (r == 0) {
		mb_printf(mb, "disk0: %lu bytes, %u-byte sectors, no partition table\n", d.media, secsz);
		mb_strlcpy(mb->currdev, "disk0:", sizeof(mb->currdev));
		off = 0;
		len = d.media;
	}
	err = mb_ufs_mount(mb, 0, off, len);
	if (err)
		mb_fatal(mb, "%s no usable UFS file system: %s", mb->currdev, mb_strerror(err));
	mb->on_disk = true;
	return 0;
}
