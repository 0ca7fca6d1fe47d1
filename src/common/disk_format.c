/* disk_format.c: which QEMU image format a disk's first bytes are, and the backing file an image header names. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "errmsg.h"
#include "span.h"

/* QEMU's driver names a disk may be given as (--format); the COW ones can have a backing file. */
static const struct {
	const char *name;
	bool cow;
} disk_formats[] = {
	{ "raw", false },   { "qcow2", true },   { "qcow", true },  { "qed", true },
	{ "vmdk", true },   { "vpc", false },    { "vhdx", false }, { "vdi", false },
	{ "parallels", false }, { "bochs", false }, { "cloop", false }, { "dmg", false },
};

const char *disk_format_name(const char *name)
{
	for (size_t i = 0; i < sizeof(disk_formats) / sizeof(disk_formats[0]); i++)
		if (strcmp(name, disk_formats[i].name) == 0)
			return disk_formats[i].name;
	return NULL;
}

const char *disk_format_list(void)
{
	static char list[160];
	size_t at = 0;

	/* Made once from the table, so no message lists a format the table does not have. */
	if (list[0])
		return list;
	for (size_t i = 0; i < sizeof(disk_formats) / sizeof(disk_formats[0]); i++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "", disk_formats[i].name);
	return list;
}

int disk_format_arg(const char *s, const char **fmt)
{
	*fmt = strcmp(s, "auto") ? disk_format_name(s) : NULL;
	return strcmp(s, "auto") && !*fmt ? -EINVAL : 0;
}

bool disk_format_cow(const char *name)
{
	for (size_t i = 0; i < sizeof(disk_formats) / sizeof(disk_formats[0]); i++)
		if (strcmp(name, disk_formats[i].name) == 0)
			return disk_formats[i].cow;
	return false;
}

static const char disk_cloop_magic[] = "#!/bin/sh\n#V2.0 Format\n"
				       "modprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";

/*
 * The magic numbers QEMU's own probes look for (block/qcow2.c, qcow.c, qed.c,
 * vmdk.c, vpc.c, vhdx.c, vdi.c, parallels.c, bochs.c, cloop.c, crypto.c);
 * nothing else is guessed, and raw is what matches none.  dmg is only ever
 * recognised by QEMU from its file name, so it is never guessed here.
 */
int disk_format_probe(const uint8_t *h, size_t n, const char **fmt, char *why, size_t wlen)
{
	struct span s = span_make(h, n);
	uint32_t v = 0;

	*fmt = "raw";
	if (span_eq(s, 0, "QFI\xfb", 4)) {
		span_be32(s, 4, &v);
		*fmt = v == 1 ? "qcow" : "qcow2";
	} else if (span_eq(s, 0, "QED\0", 4)) {
		*fmt = "qed";
	} else if (span_eq(s, 0, "KDMV", 4) || span_eq(s, 0, "COWD", 4)) {
		*fmt = "vmdk";
	} else if (span_eq(s, 0, "# Disk DescriptorFile", 21)) {
		return errmsg_set(why, wlen, EMEDIUMTYPE, "a VMDK descriptor file, whose extents are other "
				  "files: give the extent itself (a -flat.vmdk is raw) or convert it with "
				  "qemu-img convert -O qcow2");
	} else if (span_eq(s, 0, "conectix", 8)) {
		*fmt = "vpc";
	} else if (span_eq(s, 0, "vhdxfile", 8)) {
		*fmt = "vhdx";
	} else if (span_le32(s, 64, &v) == 0 && v == 0xbeda107f) {
		*fmt = "vdi";
	} else if ((span_eq(s, 0, "WithoutFreeSpace", 16) || span_eq(s, 0, "WithouFreSpacExt", 16)) &&
		   span_le32(s, 16, &v) == 0 && v == 2) {
		*fmt = "parallels";
	} else if (span_eq(s, 0, "Bochs Virtual HD Image", 22)) {
		*fmt = "bochs";
	} else if (span_eq(s, 0, disk_cloop_magic, sizeof(disk_cloop_magic) - 1)) {
		*fmt = "cloop";
	} else if (span_eq(s, 0, "LUKS\xba\xbe", 6)) {
		return errmsg_set(why, wlen, EMEDIUMTYPE, "a LUKS-encrypted image: it needs a key, which "
				  "kvmload does not take");
	}
	return 0;
}

/* A backing file name QEMU would take as a protocol (json:, nbd:, http://, file:...) is never followed. */
static bool disk_backing_is_protocol(const char *name)
{
	const char *colon = strchr(name, ':'), *slash = strchr(name, '/');

	return colon && (!slash || colon < slash);
}

/* Bytes [off, off + len) of fd into buf; -EIO when the file is shorter. */
static int disk_read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* qcow2 header extensions: the backing format, and the external data file we refuse. */
#define QCOW2_EXT_END 0
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_DATA_FILE 0x44415441u
#define QCOW2_INCOMPAT_DATA_FILE (1u << 2)

static int disk_backing_qcow2(int fd, struct span h, struct disk_backing *b, char *why, size_t wlen)
{
	uint32_t version = 0, cbits = 0, crypt = 0, hlen = 72, bsize = 0;
	uint64_t boff = 0, incompat = 0;
	uint8_t ext[4096];

	span_be32(h, 4, &version);
	span_be64(h, 8, &boff);
	span_be32(h, 16, &bsize);
	span_be32(h, 20, &cbits);
	span_be32(h, version == 1 ? 36 : 32, &crypt);
	if (crypt)
		return errmsg_set(why, wlen, EMEDIUMTYPE, "an encrypted qcow image: it needs a key, "
				  "which kvmload does not take");
	if (version == 1) {
		/* qcow (version 1): no extensions, the same backing fields. */
	} else {
		if (version >= 3 && (span_be64(h, 72, &incompat) < 0 || span_be32(h, 100, &hlen) < 0))
			return errmsg_set(why, wlen, EMEDIUMTYPE, "a qcow2 header cut short");
		if (incompat & QCOW2_INCOMPAT_DATA_FILE)
			return errmsg_set(why, wlen, EMEDIUMTYPE, "a qcow2 image with an external data file, "
					  "which QEMU would open by name: not supported");
		if (cbits < 9 || cbits > 21 || hlen < 72 || hlen >= (1u << cbits))
			return errmsg_set(why, wlen, EMEDIUMTYPE, "a qcow2 header QEMU would refuse "
					  "(cluster bits %u, header length %u)", cbits, hlen);
		/* The extensions follow the header, within its first cluster (read at most 4 KiB of them). */
		size_t elen = (1u << cbits) - hlen < sizeof(ext) ? (1u << cbits) - hlen : sizeof(ext);
		ssize_t got = pread(fd, ext, elen, hlen);
		struct span e = span_make(ext, got > 0 ? (size_t)got : 0);

		for (size_t at = 0;;) {
			uint32_t type, len;

			if (span_be32(e, at, &type) < 0 || type == QCOW2_EXT_END || span_be32(e, at + 4, &len) < 0)
				break;
			if (type == QCOW2_EXT_DATA_FILE)
				return errmsg_set(why, wlen, EMEDIUMTYPE, "a qcow2 image with an external data "
						  "file, which QEMU would open by name: not supported");
			if (type == QCOW2_EXT_BACKING_FORMAT && len < sizeof(b->format) &&
			    span_copy(e, at + 8, b->format, len) == 0)
				b->format[len] = '\0';
			at += 8 + (((size_t)len + 7) & ~(size_t)7);
		}
	}
	/* QEMU reads an offset with an empty name as no backing file. */
	if (!boff || !bsize)
		return 0;
	if (bsize >= sizeof(b->name) || disk_read_at(fd, b->name, bsize, boff) < 0 ||
	    memchr(b->name, '\0', bsize))
		return errmsg_set(why, wlen, EMEDIUMTYPE, "a backing file name QEMU would not read "
				  "(%u bytes at %llu)", bsize, (unsigned long long)boff);
	b->name[bsize] = '\0';
	return 0;
}

#define QED_F_BACKING_FILE 1u
#define QED_F_BACKING_FORMAT_NO_PROBE 4u

static int disk_backing_qed(int fd, struct span h, struct disk_backing *b, char *why, size_t wlen)
{
	uint64_t features = 0;
	uint32_t boff = 0, bsize = 0;

	span_le64(h, 16, &features);
	if (!(features & QED_F_BACKING_FILE))
		return 0;
	span_le32(h, 56, &boff);
	span_le32(h, 60, &bsize);
	if (bsize == 0 || bsize >= sizeof(b->name) || disk_read_at(fd, b->name, bsize, boff) < 0 ||
	    memchr(b->name, '\0', bsize))
		return errmsg_set(why, wlen, EMEDIUMTYPE, "a backing file name QEMU would not read "
				  "(%u bytes at %u)", bsize, boff);
	b->name[bsize] = '\0';
	if (features & QED_F_BACKING_FORMAT_NO_PROBE)
		strcpy(b->format, "raw");
	return 0;
}

/* A sparse VMDK names its parent in its embedded descriptor; we do not follow it. */
static int disk_backing_vmdk(int fd, struct span h, char *why, size_t wlen)
{
	uint64_t off = 0, size = 0;
	char desc[4096];
	const char *p;
	ssize_t n;

	if (!span_eq(h, 0, "KDMV", 4) || span_le64(h, 28, &off) < 0 || span_le64(h, 36, &size) < 0 ||
	    !off || !size)
		return 0;
	n = pread(fd, desc, sizeof(desc) - 1, (off_t)(off * 512));
	desc[n > 0 ? n : 0] = '\0';
	p = strstr(desc, "parentCID=");
	if (p && strncmp(p + 10, "ffffffff", 8) != 0)
		return errmsg_set(why, wlen, EMEDIUMTYPE, "a VMDK delta with a parent image, which QEMU "
				  "would open by name: not supported (convert it with qemu-img convert)");
	return 0;
}

int disk_format_backing(int fd, const char *fmt, struct disk_backing *b, char *why, size_t wlen)
{
	uint8_t head[512];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	struct span h = span_make(head, n > 0 ? (size_t)n : 0);
	int r = 0;

	b->name[0] = b->format[0] = '\0';
	if (n < 0)
		return errmsg_set(why, wlen, errno, "%s", strerror(errno));
	if (!strcmp(fmt, "qcow2") || !strcmp(fmt, "qcow"))
		r = span_eq(h, 0, "QFI\xfb", 4) ? disk_backing_qcow2(fd, h, b, why, wlen) : 0;
	else if (!strcmp(fmt, "qed"))
		r = span_eq(h, 0, "QED\0", 4) ? disk_backing_qed(fd, h, b, why, wlen) : 0;
	else if (!strcmp(fmt, "vmdk"))
		r = disk_backing_vmdk(fd, h, why, wlen);
	if (r < 0 || !b->name[0])
		return r;
	if (!strncmp(b->name, "json:", 5) || disk_backing_is_protocol(b->name))
		return errmsg_set(why, wlen, EMEDIUMTYPE, "backing file '%s' names a protocol, not a file: "
				  "only local backing files are followed", b->name);
	if (b->format[0] && !disk_format_name(b->format))
		return errmsg_set(why, wlen, EMEDIUMTYPE, "backing file '%s' has format '%s', which "
				  "kvmload does not take", b->name, b->format);
	return 0;
}
