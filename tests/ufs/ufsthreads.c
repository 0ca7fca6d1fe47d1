/* ufsthreads.c: test helper: several threads read one UFS file at random offsets through one struct ufs and compare with the source file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ufs.h"

#define THREADS 4
#define READS 3000

struct shared {
	struct ufs *fs;
	uint64_t ino;
	const uint8_t *want;
	size_t size;
};

struct worker {
	pthread_t tid;
	const struct shared *sh;
	unsigned seed;
	int bad;
};

static int dev_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	return pread(*(const int *)ctx, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	const struct shared *sh = w->sh;
	static const size_t maxlen = 200000;
	uint8_t *buf = malloc(maxlen);
	struct ufs_stat st;

	for (int i = 0; buf && i < READS; i++) {
		uint64_t off = (uint64_t)rand_r(&w->seed) % (sh->size + 100);
		size_t len = (size_t)rand_r(&w->seed) % maxlen;
		size_t expect = off >= sh->size ? 0 : (sh->size - off < len ? sh->size - off : len);
		ssize_t n = ufs_read(sh->fs, sh->ino, buf, len, off);

		if (n != (ssize_t)expect || (n > 0 && memcmp(buf, sh->want + off, (size_t)n)))
			w->bad++;
		if (ufs_getattr(sh->fs, UFS_ROOT_INO, &st) || !(st.mode & 040000))
			w->bad++;
	}
	if (!buf)
		w->bad++;
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct shared sh = { 0 };
	struct worker w[THREADS];
	struct ufs_dev dev;
	struct stat st;
	uint8_t *want;
	int fd, src;

	if (argc != 4) {
		fprintf(stderr, "usage: ufsthreads IMAGE PATH SOURCE-FILE\n");
		return 64;
	}
	fd = open(argv[1], O_RDONLY);
	src = open(argv[3], O_RDONLY);
	if (fd < 0 || src < 0 || fstat(src, &st) < 0)
		return 1;
	want = malloc((size_t)st.st_size + 1);
	CHECK(want && read(src, want, (size_t)st.st_size) == st.st_size);
	sh.want = want;
	sh.size = (size_t)st.st_size;
	if (fstat(fd, &st) < 0)
		return 1;
	dev = (struct ufs_dev){ dev_pread, &fd, (uint64_t)st.st_size };
	CHECK_EQ(ufs_open(&sh.fs, &dev), 0);
	CHECK_EQ(ufs_resolve(sh.fs, argv[2], &sh.ino), 0);
	if (check_failed)
		return check_done();
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .sh = &sh, .seed = 1234u + (unsigned)i };
		CHECK_EQ(pthread_create(&w[i].tid, NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(w[i].tid, NULL);
		CHECK_EQ(w[i].bad, 0);
	}
	ufs_close(sh.fs);
	free(want);
	close(fd);
	close(src);
	return check_done();
}
