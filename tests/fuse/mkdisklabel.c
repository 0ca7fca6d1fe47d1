/* mkdisklabel.c: test helper that writes MBR slice entries and FreeBSD BSD disklabels into disk images, and moves GPT entries. */
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

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c >> 1 ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t num64(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (end == s || *end)
		errx(2, "%s: not a number", s);
	return v;
}

/* Rewrite entries N in the GPT header at `lba` and its entry array, with both checksums redone. */
static void gpt_edit(int fd, uint64_t lba, int argc, char **argv)
{
	uint8_t h[SECTOR], *e;
	uint64_t elba;
	uint32_t n, esz, hsz;
	size_t len;

	rw_sector(fd, h, lba, 0);
	if (memcmp(h, "EFI PART", 8))
		errx(1, "no GPT header at LBA %llu", (unsigned long long)lba);
	hsz = get32(h + 12);
	elba = get64(h + 72);
	n = get32(h + 80);
	esz = get32(h + 84);
	if (hsz < 92 || hsz > SECTOR || esz < 128 || n == 0 || n > 1024)
		errx(1, "GPT header at LBA %llu: odd sizes", (unsigned long long)lba);
	len = ((size_t)n * esz + SECTOR - 1) / SECTOR * SECTOR;
	if (!(e = calloc(1, len)))
		err(1, "calloc");
	for (size_t i = 0; i < len / SECTOR; i++)
		rw_sector(fd, e + i * SECTOR, elba + i, 0);
	for (int i = 0; i < argc; i++) {
		char *f[3], *save = NULL, *arg = strdup(argv[i]), *a = arg;
		uint32_t k;

		for (int j = 0; j < 3; j++, a = NULL)
			if (!(f[j] = strtok_r(a, ":", &save)))
				errx(2, "entry spec is N:FIRST:LAST");
		k = num(f[0]);
		if (k < 1 || k > n)
			errx(2, "%s: entry 1..%u", f[0], n);
		put64(e + (size_t)(k - 1) * esz + 32, num64(f[1]));
		put64(e + (size_t)(k - 1) * esz + 40, num64(f[2]));
		free(arg);
	}
	for (size_t i = 0; i < len / SECTOR; i++)
		rw_sector(fd, e + i * SECTOR, elba + i, 1);
	put32(h + 88, crc32(e, (size_t)n * esz));
	put32(h + 16, 0);
	put32(h + 16, crc32(h, hsz));
	rw_sector(fd, h, lba, 1);
	free(e);
}

/* gpt IMAGE N:FIRST:LAST...  (LBAs; the primary table and, when the image holds it, the backup) */
static void do_gpt(int fd, int argc, char **argv)
{
	uint8_t h[SECTOR];
	off_t end = lseek(fd, 0, SEEK_END);
	uint64_t alt;

	rw_sector(fd, h, 1, 0);
	alt = get64(h + 32);
	gpt_edit(fd, 1, argc, argv);
	if (end > 0 && alt < (uint64_t)end / SECTOR)
		gpt_edit(fd, alt, argc, argv);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 4 || (strcmp(argv[1], "mbr") && strcmp(argv[1], "bsd") && strcmp(argv[1], "gpt")))
		errx(2, "usage: mkdisklabel mbr IMAGE N:TYPE:START:SIZE...\n"
			"       mkdisklabel bsd IMAGE SLICESTART SLICESIZE rel|abs L:OFF:SIZE:FSTYPE...\n"
			"       mkdisklabel gpt IMAGE N:FIRST:LAST...");
	fd = open(argv[2], O_RDWR);
	if (fd < 0)
		err(1, "%s", argv[2]);
	if (strcmp(argv[1], "mbr") == 0)
		do_mbr(fd, argc - 3, argv + 3);
	else if (strcmp(argv[1], "gpt") == 0)
		do_gpt(fd, argc - 3, argv + 3);
	else
		do_bsd(fd, argc - 3, argv + 3);
	if (close(fd) < 0)
		err(1, "%s", argv[2]);
	return 0;
}
