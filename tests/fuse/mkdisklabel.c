/* mkdisklabel.c: test helper that writes MBR slice entries and FreeBSD BSD disklabels into disk images. */
#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512
#define NPARTS 8

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (end == s || *end || v > UINT32_MAX)
		errx(2, "%s: not a number", s);
	return (uint32_t)v;
}

static void rw_sector(int fd, uint8_t *buf, uint64_t sector, int write)
{
	ssize_t n = write ? pwrite(fd, buf, SECTOR, (off_t)(sector * SECTOR))
			  : pread(fd, buf, SECTOR, (off_t)(sector * SECTOR));

	if (n != SECTOR)
		err(1, "%s sector %llu", write ? "write" : "read", (unsigned long long)sector);
}

/* mbr IMAGE N:TYPE:START:SIZE...  (sectors) */
static void do_mbr(int fd, int argc, char **argv)
{
	uint8_t s[SECTOR];

	rw_sector(fd, s, 0, 0);
	for (int i = 0; i < argc; i++) {
		char *f[4], *save = NULL, *arg = argv[i];
		uint8_t *e;
		uint32_t n;

		for (int k = 0; k < 4; k++, arg = NULL)
			if (!(f[k] = strtok_r(arg, ":", &save)))
				errx(2, "slice spec is N:TYPE:START:SIZE");
		n = num(f[0]);
		if (n < 1 || n > 4)
			errx(2, "%s: slice number 1..4", f[0]);
		e = s + 446 + 16 * (n - 1);
		memset(e, 0, 16);
		e[0] = n == 1 ? 0x80 : 0;
		e[1] = e[5] = 0xfe; /* CHS fields unused: LBA only */
		e[2] = e[3] = e[6] = e[7] = 0xff;
		e[4] = (uint8_t)num(f[1]);
		put32(e + 8, num(f[2]));
		put32(e + 12, num(f[3]));
	}
	s[510] = 0x55;
	s[511] = 0xaa;
	rw_sector(fd, s, 0, 1);
}

/* bsd IMAGE SLICESTART SLICESIZE rel|abs L:OFF:SIZE:FSTYPE...  (OFF relative to the slice) */
static void do_bsd(int fd, int argc, char **argv)
{
	uint8_t s[SECTOR] = { 0 };
	uint32_t start, size, base;
	uint16_t sum = 0;

	if (argc < 3)
		errx(2, "bsd needs SLICESTART SLICESIZE rel|abs");
	start = num(argv[0]);
	size = num(argv[1]);
	if (strcmp(argv[2], "rel") && strcmp(argv[2], "abs"))
		errx(2, "%s: rel or abs", argv[2]);
	base = strcmp(argv[2], "abs") == 0 ? start : 0;
	put32(s + 0, 0x82564557);
	put32(s + 40, SECTOR);       /* d_secsize */
	put32(s + 44, 63);           /* d_nsectors */
	put32(s + 48, 255);          /* d_ntracks */
	put32(s + 52, size / (63 * 255) + 1);
	put32(s + 56, 63 * 255);     /* d_secpercyl */
	put32(s + 60, size);         /* d_secperunit */
	put16(s + 72, 3600);         /* d_rpm */
	put16(s + 74, 1);            /* d_interleave */
	put32(s + 132, 0x82564557);  /* d_magic2 */
	put16(s + 138, NPARTS);
	put32(s + 140, 8192);        /* d_bbsize */
	put32(s + 148 + 2 * 16, size); /* 'c': the whole slice */
	put32(s + 148 + 2 * 16 + 4, base);
	for (int i = 3; i < argc; i++) {
		char *f[4], *save = NULL, *arg = argv[i];
		uint8_t *p;

		for (int k = 0; k < 4; k++, arg = NULL)
			if (!(f[k] = strtok_r(arg, ":", &save)))
				errx(2, "partition spec is L:OFF:SIZE:FSTYPE");
		if (f[0][0] < 'a' || f[0][0] >= 'a' + NPARTS || f[0][1])
			errx(2, "%s: letter a..h", f[0]);
		p = s + 148 + 16 * (f[0][0] - 'a');
		put32(p, num(f[2]));
		put32(p + 4, base + num(f[1]));
		p[12] = (uint8_t)num(f[3]);
	}
	for (int off = 0; off < 148 + 16 * NPARTS; off += 2)
		sum ^= (uint16_t)(s[off] | s[off + 1] << 8);
	put16(s + 136, sum);
	rw_sector(fd, s, (uint64_t)start + 1, 1);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 4 || (strcmp(argv[1], "mbr") && strcmp(argv[1], "bsd")))
		errx(2, "usage: mkdisklabel mbr IMAGE N:TYPE:START:SIZE...\n"
			"       mkdisklabel bsd IMAGE SLICESTART SLICESIZE rel|abs L:OFF:SIZE:FSTYPE...");
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		err(1, "%s", argv[2]);
	if (strcmp(argv[1], "mbr") == 0)
		do_mbr(fd, argc - 3, argv + 3);
	else
		do_bsd(fd, argc - 3, argv + 3);
	if (close(fd) < 0)
		err(1, "%s", argv[2]);
	return 0;
}
