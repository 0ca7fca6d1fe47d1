/* mkzfsseed.c: a ZFS fuzz seed from a real pool's member images: the non-zero 512-byte sectors the reader reads, as a sparse image (zimg.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "zimg.h"
#include "zwalk.h"

#define SEED_SECTOR 512
#define SEED_CHUNK_MAX (127 * SEED_SECTOR) /* one chunk's u16 length */

struct seed_dev {
	const char *path;
	const uint8_t *p;
	uint64_t size;
	uint8_t *read; /* one byte per sector: 1 when the reader read it */
};

static int seed_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct seed_dev *d = ctx;

	if (off > d->size || len > d->size - off)
		return -EIO;
	memcpy(buf, d->p + off, len);
	for (uint64_t s = off / SEED_SECTOR; s * SEED_SECTOR < off + len; s++)
		d->read[s] = 1;
	return 0;
}

static bool seed_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* --min: keep label 0 only, and of its uberblock ring only the newest uberblock. */
static void seed_minimise(struct seed_dev *d, unsigned shift)
{
	uint64_t ring = ZFS_LABEL_UB_OFF, slot = 1ull << shift, best = 0, best_txg = 0;

	for (unsigned l = 1; l < 4; l++) {
		uint64_t lo = zimg_label_off(d->size, l);

		memset(d->read + lo / SEED_SECTOR, 0, ZFS_LABEL_SIZE / SEED_SECTOR);
	}
	for (uint64_t at = 0; at < ZFS_LABEL_UB_SIZE; at += slot) {
		uint64_t magic, txg;

		memcpy(&magic, d->p + ring + at, 8);
		memcpy(&txg, d->p + ring + at + 16, 8);
		if (magic == ZFS_UB_MAGIC && txg > best_txg) {
			best_txg = txg;
			best = at;
		}
	}
	for (uint64_t at = 0; at < ZFS_LABEL_UB_SIZE; at += slot)
		if (at != best)
			memset(d->read + (ring + at) / SEED_SECTOR, 0, slot / SEED_SECTOR);
}

static void seed_le(FILE *f, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fputc((int)(v >> (8 * i) & 0xff), f);
}

int main(int argc, char **argv)
{
	static const struct zwalk_limits lim = { 256, 64, 1000000, 256ull << 20, UINT64_MAX };
	struct seed_dev d[ZIMG_MAX_DEVS];
	struct zfs_dev zd[ZIMG_MAX_DEVS];
	struct zwalk_result res;
	struct zfs_set *s;
	bool min = false, verify = false;
	unsigned ndev, shift, chunks = 0;
	uint64_t bytes = 0;
	int a = 1;
	FILE *out;

	log_init("mkzfsseed", 0);
	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "--min") == 0)
			min = true;
		else if (strcmp(argv[a], "--verify") == 0)
			verify = true;
		else if (strcmp(argv[a], "--forged") == 0)
			zimg_forged = true; /* read as fuzz_zfs will: block checksums not verified */
		else
			break;
	}
	if (argc - a < 2 || argc - a - 1 > ZIMG_MAX_DEVS) {
		fprintf(stderr, "usage: mkzfsseed [--min] [--verify] [--forged] OUT IMAGE...   (1 to %d members of one pool)\n"
			"  --min: label 0 and the newest uberblock only; --verify: the seed asks fuzz_zfs to verify\n"
			"  block checksums; --forged: trace the walk without verifying them (a damaged image)\n",
			ZIMG_MAX_DEVS);
		return 64;
	}
	ndev = (unsigned)(argc - a - 1);
	if (zfs_set_new(&s))
		return 1;
	for (unsigned i = 0; i < ndev; i++) {
		struct stat st;
		uint64_t guid;
		int fd = open(argv[a + 1 + i], O_RDONLY | O_CLOEXEC);

		d[i].path = argv[a + 1 + i];
		if (fd < 0 || fstat(fd, &st) < 0 ||
		    (d[i].p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
			perror(d[i].path);
			return 1;
		}
		close(fd);
		d[i].size = (uint64_t)st.st_size;
		if ((d[i].size & ((1u << 20) - 1)) || (d[i].size >> 20) > 0xffff ||
		    !(d[i].read = calloc(d[i].size / SEED_SECTOR, 1))) {
			fprintf(stderr, "mkzfsseed: %s: not a whole number of MiB below 64 GiB\n", d[i].path);
			return 1;
		}
		zd[i] = (struct zfs_dev){ seed_pread, &d[i], d[i].size, d[i].path };
		if (zfs_set_add(s, &zd[i], &guid) != 0) {
			fprintf(stderr, "mkzfsseed: %s: no ZFS label\n", d[i].path);
			return 1;
		}
	}
	if (zfs_set_assemble(s) != 0 || zfs_set_npools(s) != 1) {
		fprintf(stderr, "mkzfsseed: the images do not make one readable pool\n");
		zfs_set_list(s, stderr);
		return 1;
	}
	if (zwalk_pool(zfs_set_pool(s, 0), &lim, NULL, &res) != 0) {
		fprintf(stderr, "mkzfsseed: the intact pool breaks the reader's contract: %s\n", res.violation);
		return 1;
	}
	zfs_set_free(s);
	shift = zimg_ub_shift(d[0].p + ZFS_LABEL_UB_OFF, ZFS_LABEL_UB_OFF);
	if (!(out = fopen(argv[a], "wb"))) {
		perror(argv[a]);
		return 1;
	}
	fputc((int)((ndev - 1) | (verify ? ZIMG_F_VERIFY : 0) | (shift - 10) << 4), out);
	for (unsigned i = 0; i < ndev; i++)
		seed_le(out, d[i].size >> 20, 2);
	for (unsigned i = 0; i < ndev; i++) {
		uint64_t nsec = d[i].size / SEED_SECTOR;

		if (min)
			seed_minimise(&d[i], shift);
		for (uint64_t sec = 0; sec < nsec;) {
			uint64_t end = sec;

			while (end < nsec && (end - sec) * SEED_SECTOR < SEED_CHUNK_MAX && d[i].read[end] &&
			       !seed_zero(d[i].p + end * SEED_SECTOR, SEED_SECTOR))
				end++;
			if (end == sec) {
				sec++;
				continue;
			}
			fputc((int)i, out);
			seed_le(out, sec, 4);
			seed_le(out, (end - sec) * SEED_SECTOR, 2);
			fwrite(d[i].p + sec * SEED_SECTOR, SEED_SECTOR, end - sec, out);
			chunks++;
			bytes += (end - sec) * SEED_SECTOR;
			sec = end;
		}
	}
	if (fclose(out) != 0) {
		perror(argv[a]);
		return 1;
	}
	for (unsigned i = 0; i < ndev; i++) {
		free(d[i].read);
		munmap((void *)(uintptr_t)d[i].p, (size_t)d[i].size);
	}
	printf("%s: %u member(s), %u chunks, %llu bytes of sectors; the walk saw %u datasets, %u dirs, %u files, %u links, %u others, %u errors\n",
	       argv[a], ndev, chunks, (unsigned long long)bytes, res.datasets, res.dirs, res.files, res.links,
	       res.others, res.errors);
	return 0;
}
