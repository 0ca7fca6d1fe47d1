/* ufspatch.c: test helper that rewrites chosen fields of a UFS image (superblock, inode, directory entry) to build corrupt or unusual fixtures. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "ufs_int.h"

struct field {
	const char *name;
	unsigned off1, off2, bytes1, bytes2; /* UFS1 / UFS2 offset and width */
};

static const struct field sb_fields[] = {
	{ "magic", 1372, 1372, 4, 4 },	{ "bsize", 48, 48, 4, 4 },   { "fsize", 52, 52, 4, 4 },
	{ "frag", 56, 56, 4, 4 },	{ "ncg", 44, 44, 4, 4 },     { "ipg", 184, 184, 4, 4 },
	{ "fpg", 188, 188, 4, 4 },	{ "sbsize", 104, 104, 4, 4 }, { "nindir", 116, 116, 4, 4 },
	{ "inopb", 120, 120, 4, 4 },	{ "bshift", 80, 80, 4, 4 },  { "iblkno", 16, 16, 4, 4 },
	{ "dblkno", 20, 20, 4, 4 },	{ "size", 1080, 1080, 8, 8 }, { "sblockloc", 1000, 1000, 8, 8 },
	{ "maxsymlinklen", 1320, 1320, 4, 4 }, { "cgoffset", 24, 24, 4, 4 }, { "cgmask", 28, 28, 4, 4 },
	{ "old_inodefmt", 1324, 1324, 4, 4 }, { "volname", 680, 680, 0, 0 },
};

static const struct field ino_fields[] = {
	{ "mode", 0, 0, 2, 2 },	     { "nlink", 2, 2, 2, 2 },	   { "size", 8, 16, 8, 8 },
	{ "mtimensec", 28, 64, 4, 4 }, { "uid", 112, 4, 4, 4 },
};

struct tool {
	int fd;
	struct ufs_dev dev;
	struct ufs *fs;
};

static int tool_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct tool *t = ctx;

	return pread(t->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

static void die(const char *msg)
{
	fprintf(stderr, "ufspatch: %s\n", msg);
	exit(1);
}

static void put(const struct tool *t, uint64_t off, unsigned bytes, uint64_t v)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++) {
		unsigned shift = t->fs->g.be ? 8 * (bytes - 1 - i) : 8 * i;

		b[i] = (uint8_t)(v >> shift);
	}
	if (pwrite(t->fd, b, bytes, (off_t)off) != (ssize_t)bytes)
		die("write failed");
}

static const struct field *find_field(const struct field *tab, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tab[i].name, name))
			return &tab[i];
	die("unknown field");
	return NULL;
}

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

static void load(struct tool *t, const char *path, uint64_t *ino, struct ufs_inode *ip)
{
	if (ufs_resolve(t->fs, path, ino) || ufs_inode_load(t->fs, *ino, ip))
		die("cannot resolve path");
}

/* inode PATH FIELD VALUE; FIELD may also be db<N> or ib<N>, VALUE db<N> (the inode's own pointer). */
static void patch_inode(struct tool *t, char **argv)
{
	const struct ufs_geom *g = &t->fs->g;
	struct ufs_inode ip;
	uint64_t ino, base;
	unsigned psize = g->version == 1 ? 4 : 8;

	uint64_t v;

	load(t, argv[0], &ino, &ip);
	if (ufs_inode_offset(t->fs, ino, &base))
		die("bad inode");
	v = !strncmp(argv[2], "db", 2) ? ip.db[num(argv[2] + 2) % UFS_NDADDR] : num(argv[2]);
	if (!strncmp(argv[1], "db", 2))
		put(t, base + (g->version == 1 ? 40 : 112) + psize * num(argv[1] + 2), psize, v);
	else if (!strncmp(argv[1], "ib", 2))
		put(t, base + (g->version == 1 ? 88 : 208) + psize * num(argv[1] + 2), psize, v);
	else {
		const struct field *f = find_field(ino_fields, sizeof(ino_fields) / sizeof(*ino_fields), argv[1]);

		put(t, base + (g->version == 1 ? f->off1 : f->off2), f->bytes1, v);
	}
}

struct dirent_find {
	const char *name;
	uint64_t off;
	bool found;
};

static int dirent_match(void *ctx, const struct ufs_dirent *de)
{
	struct dirent_find *f = ctx;

	if (de->namlen == strlen(f->name) && !memcmp(de->name, f->name, de->namlen)) {
		f->off = de->off;
		f->found = true;
		return 1;
	}
	return 0;
}

/* dirent DIR NAME FIELD VALUE with FIELD ino, reclen or namlen. */
static void patch_dirent(struct tool *t, char **argv)
{
	const struct ufs_geom *g = &t->fs->g;
	struct dirent_find f = { argv[1], 0, false };
	struct ufs_inode dp;
	uint64_t ino, daddr, at;

	load(t, argv[0], &ino, &dp);
	if (ufs_dir_walk(t->fs, &dp, 0, dirent_match, &f) < 0 || !f.found)
		die("no such entry");
	if (ufs_inode_bmap(t->fs, &dp, f.off >> g->bshift, &daddr) || !daddr)
		die("cannot map the entry");
	at = (daddr << g->fshift) + (f.off & (g->bsize - 1));
	if (!strcmp(argv[2], "ino"))
		put(t, at, 4, num(argv[3]));
	else if (!strcmp(argv[2], "reclen"))
		put(t, at + 4, 2, num(argv[3]));
	else if (!strcmp(argv[2], "namlen"))
		g->old_dirfmt ? put(t, at + 6, 2, num(argv[3])) : put(t, at + 7, 1, num(argv[3]));
	else
		die("unknown dirent field");
}

static void sb_write(struct tool *t, uint64_t at, char **argv)
{
	const struct field *f = find_field(sb_fields, sizeof(sb_fields) / sizeof(*sb_fields), argv[0]);

	if (!strcmp(f->name, "volname")) {
		char name[32] = { 0 };

		strncpy(name, argv[1], sizeof(name) - 1);
		if (pwrite(t->fd, name, sizeof(name), (off_t)(at + f->off1)) != (ssize_t)sizeof(name))
			die("write failed");
		return;
	}
	put(t, at + f->off1, f->bytes1, num(argv[1]));
}

static bool zero_at(const struct tool *t, uint64_t off, size_t len)
{
	uint8_t buf[65536];

	if (len > sizeof(buf) || pread(t->fd, buf, len, (off_t)off) != (ssize_t)len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

/* move-sb DEST: copy the superblock to DEST (free, zeroed space) and point fs_sblockloc there. */
static void patch_move_sb(struct tool *t, uint64_t dest)
{
	uint8_t buf[UFS_SBLOCKSIZE];
	uint64_t from = t->fs->g.sblock_off;

	if (!zero_at(t, dest, sizeof(buf)))
		die("destination is in use");
	if (pread(t->fd, buf, sizeof(buf), (off_t)from) != (ssize_t)sizeof(buf) ||
	    pwrite(t->fd, buf, sizeof(buf), (off_t)dest) != (ssize_t)sizeof(buf))
		die("copy failed");
	put(t, dest + 1000, 8, dest);
	put(t, from + 1372, 4, 0); /* the old copy must not be what the reader finds */
}

/*
 * triple PATH: keep block 0, move block 1 to the first logical block behind
 * di_ib[2] (through three fresh indirect blocks at the end of the file
 * system, below its last block), and grow di_size to end with that block.  Prints its byte offset.
 */
static void patch_triple(struct tool *t, const char *path)
{
	const struct ufs_geom *g = &t->fs->g;
	unsigned psize = g->version == 1 ? 4 : 8;
	uint64_t ino, base, blk[3], lbn = UFS_NDADDR + g->nindir + (uint64_t)g->nindir * g->nindir;
	struct ufs_inode ip;
	uint8_t *zero = calloc(1, g->bsize);

	load(t, path, &ino, &ip);
	if (!zero || ufs_inode_offset(t->fs, ino, &base) || !ip.db[1])
		die("need a file with two direct blocks");
	for (int i = 0; i < 3; i++) {
		blk[i] = (g->size / g->frag - 4 + (uint64_t)i) * g->frag; /* makefs writes the last sector */
		if (!zero_at(t, blk[i] << g->fshift, g->bsize))
			die("no free blocks at the end of the file system");
		if (pwrite(t->fd, zero, g->bsize, (off_t)(blk[i] << g->fshift)) != (ssize_t)g->bsize)
			die("write failed");
	}
	put(t, blk[0] << g->fshift, psize, blk[1]);
	put(t, blk[1] << g->fshift, psize, blk[2]);
	put(t, blk[2] << g->fshift, psize, ip.db[1]);
	for (unsigned i = 1; i < UFS_NDADDR; i++)
		put(t, base + (g->version == 1 ? 40 : 112) + psize * i, psize, 0);
	put(t, base + (g->version == 1 ? 88 : 208), psize, 0);
	put(t, base + (g->version == 1 ? 88 : 208) + psize, psize, 0);
	put(t, base + (g->version == 1 ? 88 : 208) + 2 * psize, psize, blk[0]);
	put(t, base + (g->version == 1 ? 8 : 16), 8, (lbn + 1) * g->bsize);
	printf("%" PRIu64 "\n", lbn * g->bsize);
	free(zero);
}

int main(int argc, char **argv)
{
	struct tool t;
	struct stat st;

	log_init("ufspatch", 0);
	if (argc < 3) {
		fprintf(stderr, "usage: ufspatch IMAGE sb FIELD VALUE... | inode PATH FIELD VALUE |\n"
				"       dirent DIR NAME FIELD VALUE | move-sb DEST | triple PATH\n");
		return EX_USAGE;
	}
	if ((t.fd = open(argv[1], O_RDWR)) < 0 || fstat(t.fd, &st) < 0)
		die("cannot open the image");
	t.dev = (struct ufs_dev){ tool_pread, &t, (uint64_t)st.st_size };
	if (ufs_open(&t.fs, &t.dev))
		die("not a readable UFS image");
	if (!strcmp(argv[2], "sb") && argc >= 5 && argc % 2 == 1)
		for (int i = 3; i < argc; i += 2)
			sb_write(&t, t.fs->g.sblock_off, argv + i);
	else if (!strcmp(argv[2], "inode") && argc == 6)
		patch_inode(&t, argv + 3);
	else if (!strcmp(argv[2], "dirent") && argc == 7)
		patch_dirent(&t, argv + 3);
	else if (!strcmp(argv[2], "move-sb") && argc == 4)
		patch_move_sb(&t, num(argv[3]));
	else if (!strcmp(argv[2], "triple") && argc == 4)
		patch_triple(&t, argv[3]);
	else
		die("bad command");
	ufs_close(t.fs);
	close(t.fd);
	return 0;
}
