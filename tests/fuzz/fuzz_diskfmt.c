/* fuzz_diskfmt.c: fuzz target: an image file's bytes -> disk_format_probe and disk_format_backing (the headers kvmload reads before QEMU does), checked against disk.h's promises. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disk.h"
#include "fuzz.h"

/* The image as a file: the backing parser reads at offsets the header names. */
static int fuzz_diskfmt_file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("image", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		fuzz_violation("diskfmt", "memfd");
	return fd;
}

static bool fuzz_diskfmt_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fmt = NULL;
	char why[1200];
	struct disk_backing b;
	int fd, r;

	r = disk_format_probe(data, size < 1024 ? size : 1024, &fmt, why, sizeof(why));
	if (r < 0) {
		if (r != -EMEDIUMTYPE || !fuzz_diskfmt_terminated(why, sizeof(why)))
			fuzz_violation("diskfmt", "probe: a refusal other than -EMEDIUMTYPE with its message");
		return 0;
	}
	if (!fmt || disk_format_name(fmt) != fmt)
		fuzz_violation("diskfmt", "probe: a format that disk_format_name does not know");
	if (!disk_format_cow(fmt))
		return 0;
	fd = fuzz_diskfmt_file(data, size);
	r = disk_format_backing(fd, fmt, &b, why, sizeof(why));
	close(fd);
	if (!fuzz_diskfmt_terminated(b.name, sizeof(b.name)) || !fuzz_diskfmt_terminated(b.format, sizeof(b.format)))
		fuzz_violation("diskfmt", "backing: a name or format without its NUL");
	if (r < 0) {
		if (!fuzz_diskfmt_terminated(why, sizeof(why)))
			fuzz_violation("diskfmt", "backing: a refusal without its message");
		return 0;
	}
	/* What is handed on is a local file name and a format kvmload takes, or nothing. */
	if (b.name[0]) {
		const char *colon = strchr(b.name, ':'), *slash = strchr(b.name, '/');

		if (colon && (!slash || colon < slash))
			fuzz_violation("diskfmt", "backing: a protocol name let through");
		if (b.format[0] && !disk_format_name(b.format))
			fuzz_violation("diskfmt", "backing: an unknown format let through");
	}
	return 0;
}
