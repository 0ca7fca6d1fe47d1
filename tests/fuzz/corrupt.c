/* corrupt.c: the corruption suite's driver: seeded mutations of UFS/GPT/MBR images, aimed at their metadata, each probed and walked in-process; --min-walked fails a run whose share of walked images is too small. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkdev.h"
#include "probe.h"
#include "ufs_int.h"
#include "walk.h"

#define CORRUPT_TIMEOUT 20      /* seconds one mutated image may take: a hang fails the suite */
#define CORRUPT_MAX_INODES 4000 /* inodes of a base image whose bytes are mutation targets */
#define CORRUPT_DIR_BLOCKS 64   /* directory blocks per directory */

enum region_kind { R_SUPER, R_INODE, R_DIR, R_INDIR, R_TABLE, R_KINDS };
static const char *const region_names[R_KINDS] = { "superblock", "inode", "directory block",
						   "indirect block", "partition table" };

struct corrupt_region {
	uint64_t off, len;
};

struct corrupt_regions {
	struct corrupt_region *v[R_KINDS];
	size_t n[R_KINDS], cap[R_KINDS];
};

struct corrupt_image {
	const char *path;
	uint8_t *base;
	size_t size;
	struct corrupt_regions rg;
};

struct corrupt_tally {
	unsigned images, walked, parts, opened, clean, with_errors, rejected, no_ufs, probe_refused;
	unsigned hits[R_KINDS];
	uint64_t errors, bytes;
};

/* The mutation being walked, for the watchdog: a signal handler gets no context. */
static volatile sig_atomic_t corrupt_index = -1;

static void corrupt_on_alarm(int sig)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "corrupt: mutation %d still runs after %d s: a hang\n",
			 (int)corrupt_index, CORRUPT_TIMEOUT);

	(void)sig;
	if (n > 0)
		(void)!write(STDOUT_FILENO, msg, (size_t)n);
	_exit(1);
}

/* splitmix64: one 64-bit state, the same sequence for the same seed everywhere. */
static uint64_t corrupt_rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t corrupt_rnd_below(uint64_t *s, uint64_t n)
{
	return n ? corrupt_rnd(s) % n : 0;
}

static void corrupt_region_add(struct corrupt_regions *rg, enum region_kind k, uint64_t off,
			       uint64_t len, uint64_t size)
{
	if (off >= size || len == 0)
		return;
	if (len > size - off)
		len = size - off;
	if (rg->n[k] == rg->cap[k]) {
		size_t cap = rg->cap[k] ? 2 * rg->cap[k] : 64;
		struct corrupt_region *v = realloc(rg->v[k], cap * sizeof(*v));

		if (!v) {
			perror("corrupt: realloc");
			exit(1);
		}
		rg->v[k] = v;
		rg->cap[k] = cap;
	}
	rg->v[k][rg->n[k]++] = (struct corrupt_region){ off, len };
}

static int corrupt_memfd_of(const uint8_t *p, size_t len)
{
	int fd = memfd_create("corrupt", MFD_CLOEXEC);
	size_t done = 0;

	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	return fd;
}

/* The metadata of one intact file system: superblock, used inodes, directory and indirect blocks. */
struct corrupt_collect {
	struct ufs *fs;
	uint64_t start, size;
	struct corrupt_regions *rg;
	uint64_t *inos;
	size_t n;
};

static int corrupt_collect_entry(void *ctx, const char *name, size_t namelen, uint64_t ino,
				 uint8_t dtype, uint64_t next_off)
{
	struct corrupt_collect *c = ctx;

	(void)name;
	(void)namelen;
	(void)dtype;
	(void)next_off;
	for (size_t i = 0; i < c->n; i++)
		if (c->inos[i] == ino)
			return 0;
	if (c->n < CORRUPT_MAX_INODES)
		c->inos[c->n++] = ino;
	return 0;
}

static void corrupt_collect_fs(struct corrupt_collect *c)
{
	const struct ufs_geom *g = &c->fs->g;

	corrupt_region_add(c->rg, R_SUPER, c->start + g->sblock_off, UFS_SBSIZE_MIN, c->size);
	c->inos[c->n++] = UFS_ROOT_INO;
	/* Breadth-first: inos grows while it is read. */
	for (size_t i = 0; i < c->n; i++) {
		struct ufs_inode ip;
		uint64_t off;

		if (ufs_inode_load(c->fs, c->inos[i], &ip) || ufs_inode_offset(c->fs, ip.ino, &off))
			continue;
		corrupt_region_add(c->rg, R_INODE, c->start + off, g->inosize, c->size);
		for (int k = 0; k < UFS_NIADDR; k++)
			if (ip.ib[k])
				corrupt_region_add(c->rg, R_INDIR, c->start + (ip.ib[k] << g->fshift), g->bsize,
					   c->size);
		if ((ip.mode & UFS_IFMT) != UFS_IFDIR)
			continue;
		for (uint64_t lbn = 0; lbn < CORRUPT_DIR_BLOCKS && (lbn << g->bshift) < ip.size; lbn++) {
			uint64_t daddr;

			if (ufs_inode_bmap(c->fs, &ip, lbn, &daddr) == 0 && daddr)
				corrupt_region_add(c->rg, R_DIR, c->start + (daddr << g->fshift),
					   g->bsize, c->size);
		}
		ufs_readdir(c->fs, ip.ino, 0, corrupt_collect_entry, c);
	}
}

static int corrupt_image_load(struct corrupt_image *im, const char *path)
{
	struct blkdev bd = { .fd = -1, .path = path };
	struct probe_part *parts = NULL;
	size_t nparts = 0;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(im, 0, sizeof(*im));
	im->path = path;
	if (fd < 0 || fstat(fd, &st) < 0 || !(im->base = malloc((size_t)st.st_size))) {
		perror(path);
		return -1;
	}
	im->size = (size_t)st.st_size;
	if (pread(fd, im->base, im->size, 0) != (ssize_t)im->size) {
		perror(path);
		return -1;
	}
	bd.fd = fd;
	bd.size = im->size;
	if (probe_disk(&bd, 0, &parts, &nparts) != 0) {
		fprintf(stderr, "corrupt: %s: the intact image does not probe\n", path);
		return -1;
	}
	for (size_t i = 0; i < nparts; i++) {
		struct probe_part *p = &parts[i];
		struct blkpart part;
		struct ufs_dev dev;
		struct corrupt_collect c = { 0 };

		/* MBR, GPT header and entries; the backup GPT at the end. */
		if (p->scheme != PROBE_NONE && !im->rg.n[R_TABLE]) {
			corrupt_region_add(&im->rg, R_TABLE, 0, 34 * 512, im->size);
			corrupt_region_add(&im->rg, R_TABLE, im->size - 33 * 512, 33 * 512, im->size);
		}
		if (p->container)
			corrupt_region_add(&im->rg, R_TABLE, p->start + 512, 512, im->size);
		if (p->container || blkdev_window(&bd, p->start, p->size, &part))
			continue;
		dev = blkdev_ufs_dev(&part);
		if (ufs_open(&c.fs, &dev))
			continue;
		c.start = p->start;
		c.size = im->size;
		c.rg = &im->rg;
		if (!(c.inos = malloc(CORRUPT_MAX_INODES * sizeof(*c.inos)))) {
			perror("corrupt: malloc");
			return -1;
		}
		corrupt_collect_fs(&c);
		free(c.inos);
		ufs_close(c.fs);
	}
	free(parts);
	close(fd);
	if (!im->rg.n[R_SUPER]) {
		fprintf(stderr, "corrupt: %s: no UFS file system in the intact image\n", path);
		return -1;
	}
	return 0;
}

/* Values that sit on the edges of the reader's checks. */
static uint64_t corrupt_interesting(uint64_t *s, uint64_t old)
{
	static const uint64_t v[] = { 0, 1, 2, 3, 4, 7, 8, 12, 16, 255, 256, 511, 512, 4096, 8192,
				      65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff,
				      0x100000000ULL, 0x7fffffffffffffffULL, UINT64_MAX };
	uint64_t pick = corrupt_rnd_below(s, sizeof(v) / sizeof(v[0]) + 3);

	if (pick < sizeof(v) / sizeof(v[0]))
		return v[pick];
	if (pick == sizeof(v) / sizeof(v[0]))
		return old + 1 + corrupt_rnd_below(s, 16);
	if (pick == sizeof(v) / sizeof(v[0]) + 1)
		return old - 1 - corrupt_rnd_below(s, 16);
	return corrupt_rnd(s);
}

/* One mutation at a random place of a random metadata region. */
static void corrupt_mutate_once(const struct corrupt_image *im, uint8_t *img, uint64_t *s,
				struct corrupt_tally *t)
{
	enum region_kind k;
	const struct corrupt_region *r;
	uint64_t off, width, old = 0;

	do
		k = (enum region_kind)corrupt_rnd_below(s, R_KINDS);
	while (!im->rg.n[k]);
	t->hits[k]++;
	r = &im->rg.v[k][corrupt_rnd_below(s, im->rg.n[k])];
	off = r->off + corrupt_rnd_below(s, r->len);
	switch (corrupt_rnd_below(s, 6)) {
	case 0:
		img[off] = (uint8_t)corrupt_rnd(s);
		break;
	case 1:
		img[off] ^= (uint8_t)(1u << corrupt_rnd_below(s, 8));
		break;
	case 2: /* a 2-, 4- or 8-byte field, aligned inside its region, in either byte order */
	case 3:
		width = 2u << corrupt_rnd_below(s, 3);
		off = r->off + ((off - r->off) & ~(width - 1));
		if (off + width > im->size)
			break;
		memcpy(&old, img + off, width);
		old = corrupt_interesting(s, old);
		if (corrupt_rnd_below(s, 2))
			old = __builtin_bswap64(old) >> (64 - 8 * width);
		memcpy(img + off, &old, width);
		break;
	case 4: { /* bytes from another region of the same kind: plausible but wrong */
		const struct corrupt_region *from = &im->rg.v[k][corrupt_rnd_below(s, im->rg.n[k])];
		uint64_t n = 4 + corrupt_rnd_below(s, 60), src = from->off + corrupt_rnd_below(s, from->len);

		if (n > im->size - off)
			n = im->size - off;
		if (n > im->size - src)
			n = im->size - src;
		memmove(img + off, im->base + src, n);
		break;
	}
	default: {
		uint64_t n = 1 + corrupt_rnd_below(s, 64);

		memset(img + off, 0, n < im->size - off ? n : im->size - off);
		break;
	}
	}
}

/* Probe the mutated disk, open and walk every partition twice. 0, or -1 on a violation. */
static int corrupt_check_image(const uint8_t *img, size_t size, struct corrupt_tally *t, char *why,
			       size_t whylen)
{
	static const struct walk_limits lim = { 32, 5000, 16 << 20, UINT64_MAX };
	struct blkdev bd = { .fd = corrupt_memfd_of(img, size), .size = size, .path = "mutated" };
	struct probe_part *parts = NULL;
	size_t nparts = 0;
	int r, ret = 0;

	if (bd.fd < 0) {
		snprintf(why, whylen, "memfd: %s", strerror(errno));
		return -1;
	}
	r = probe_disk(&bd, 0, &parts, &nparts);
	if (r == -EINVAL || r == -EIO) {
		t->probe_refused++;
		close(bd.fd);
		return 0;
	}
	if (r) {
		snprintf(why, whylen, "probe_disk returned %s", strerror(-r));
		close(bd.fd);
		return -1;
	}
	for (size_t i = 0; i < nparts && ret == 0; i++) {
		struct walk_result a, b;
		struct blkpart part;
		struct ufs_dev dev;
		struct ufs *fs;

		if (parts[i].start > size || parts[i].size > size - parts[i].start) {
			snprintf(why, whylen, "%s lies outside the disk", parts[i].name);
			ret = -1;
			break;
		}
		if (parts[i].container || blkdev_window(&bd, parts[i].start, parts[i].size, &part))
			continue;
		t->parts++;
		dev = blkdev_ufs_dev(&part);
		r = ufs_open(&fs, &dev);
		if (r == -EINVAL) {
			t->no_ufs++;
			continue;
		}
		if (r == -EIO) {
			t->rejected++;
			continue;
		}
		if (r) {
			snprintf(why, whylen, "%s: ufs_open returned %s", parts[i].name, strerror(-r));
			ret = -1;
			break;
		}
		t->opened++;
		/* The second walk runs on a warm indirect-block cache and must see the same. */
		if (walk_ufs(fs, &lim, &a) || walk_ufs(fs, &lim, &b)) {
			snprintf(why, whylen, "%s: %s", parts[i].name, a.violation[0] ? a.violation : b.violation);
			ret = -1;
		} else if (a.digest != b.digest || a.errors != b.errors || a.bytes != b.bytes) {
			snprintf(why, whylen, "%s: two walks differ (%u/%u errors, %" PRIu64 "/%" PRIu64
				 " bytes)", parts[i].name, a.errors, b.errors, a.bytes, b.bytes);
			ret = -1;
		} else {
			t->errors += a.errors;
			t->bytes += a.bytes;
			if (a.errors)
				t->with_errors++;
			else
				t->clean++;
		}
		ufs_close(fs);
	}
	free(parts);
	close(bd.fd);
	return ret;
}

/* Sanitizer reports must still reach the log while the reader's own lines are silenced. */
extern void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static void corrupt_quiet_stderr(void)
{
	int keep = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3), null = open("/dev/null", O_WRONLY);

	if (keep < 0 || null < 0)
		return;
	if (__sanitizer_set_report_fd)
		__sanitizer_set_report_fd((void *)(intptr_t)keep);
	dup2(null, STDERR_FILENO);
	close(null);
}

static int corrupt_write_file(const char *dir, int i, const struct corrupt_image *im,
			      const uint8_t *img)
{
	char path[4096];
	const char *name = strrchr(im->path, '/');
	int fd;

	snprintf(path, sizeof(path), "%s/mut%04d-%s", dir, i, name ? name + 1 : im->path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, img, im->size) != (ssize_t)im->size) {
		perror(path);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *outdir = NULL;
	struct corrupt_tally t = { 0 };
	struct corrupt_image *ims;
	uint64_t seed, s;
	int count, nims, args = 1, failed = 0, min_walked = 0;
	bool too_few;
	char why[512];

	for (; args + 1 < argc && strncmp(argv[args], "--", 2) == 0; args += 2) {
		if (strcmp(argv[args], "--write") == 0)
			outdir = argv[args + 1];
		else if (strcmp(argv[args], "--min-walked") == 0)
			min_walked = atoi(argv[args + 1]);
		else
			args = argc; /* an unknown option: the usage below */
	}
	if (argc - args < 3 || min_walked < 0 || min_walked > 100) {
		fprintf(stderr, "usage: corrupt [--write DIR] [--min-walked PERCENT] SEED COUNT IMAGE...\n");
		return 64;
	}
	seed = strtoull(argv[args], NULL, 0);
	count = atoi(argv[args + 1]);
	nims = argc - args - 2;
	if (!(ims = calloc((size_t)nims, sizeof(*ims))))
		return 1;
	for (int i = 0; i < nims; i++) {
		if (corrupt_image_load(&ims[i], argv[args + 2 + i]))
			return 1;
		printf("%s: %zu bytes;", ims[i].path, ims[i].size);
		for (int k = 0; k < R_KINDS; k++)
			printf(" %zu %s%s", ims[i].rg.n[k], region_names[k], ims[i].rg.n[k] == 1 ? "" : "s");
		printf("\n");
	}
	fflush(stdout);
	if (!outdir)
		corrupt_quiet_stderr();
	signal(SIGALRM, corrupt_on_alarm);
	s = seed;
	for (int i = 0; i < count; i++) {
		const struct corrupt_image *im = &ims[i % nims];
		uint8_t *img = malloc(im->size);
		int nmut = 1 + (int)corrupt_rnd_below(&s, 8);
		unsigned opened = t.opened;

		if (!img)
			return 1;
		memcpy(img, im->base, im->size);
		for (int m = 0; m < nmut; m++)
			corrupt_mutate_once(im, img, &s, &t);
		corrupt_index = i;
		alarm(CORRUPT_TIMEOUT);
		if (outdir && corrupt_write_file(outdir, i, im, img))
			return 1;
		t.images++;
		if (corrupt_check_image(img, im->size, &t, why, sizeof(why))) {
			printf("FAIL: mutation %d (seed %" PRIu64 ", of %s): %s\n", i, seed, im->path, why);
			failed++;
		}
		t.walked += t.opened > opened;
		alarm(0);
		free(img);
	}
	printf("%u mutated images (seed %" PRIu64 "): %u probe refused, %u file systems walked"
	       " (%u clean, %u with EIO on some files), %u rejected at open (EIO),"
	       " %u partitions without UFS (boot and swap ones included);"
	       " %" PRIu64 " errors returned, %" PRIu64 " bytes read\n",
	       t.images, seed, t.probe_refused, t.opened, t.clean, t.with_errors, t.rejected,
	       t.no_ufs, t.errors, t.bytes);
	printf("mutations by target:");
	for (int k = 0; k < R_KINDS; k++)
		printf(" %s %u%s", region_names[k], t.hits[k], k + 1 < R_KINDS ? "," : "\n");
	/*
	 * Mutations every image refuses at its door (probe or superblock) would
	 * leave the walk, and with it the reader's deeper checks, untested.
	 */
	printf("%u of %u mutated images walked (%u%%", t.walked, t.images,
	       t.images ? 100 * t.walked / t.images : 0);
	if (min_walked)
		printf("; at least %d%% required", min_walked);
	printf("), the rest refused by the probe or at open\n");
	too_few = t.images == 0 || (uint64_t)t.walked * 100 < (uint64_t)min_walked * t.images;
	if (too_few)
		printf("FAIL: %u of %u mutated images walked, under the floor of %d%%\n", t.walked,
		       t.images, min_walked);
	printf("%d violations\n", failed);
	for (int i = 0; i < nims; i++) {
		free(ims[i].base);
		for (int k = 0; k < R_KINDS; k++)
			free(ims[i].rg.v[k]);
	}
	free(ims);
	return failed || too_few ? 1 : 0;
}
