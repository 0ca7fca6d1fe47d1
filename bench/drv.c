/* drv.c: bench/run's measuring driver: tree maker, sequential read, stat and open+read loops, open endurance, boot timers, folio sizes. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static double drv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long drv_num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end)
		errx(EX_USAGE, "%s: not a number", s);
	return v;
}

/* Deterministic non-zero bytes, so neither makefs nor mke2fs can leave holes. */
static void drv_fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x | 1);
	}
}

/* mktree DIR N: N files in DIR/dNNN/fNNNNN (100 per directory), sizes 1..16384 bytes. */
static int drv_mktree(const char *dir, unsigned long n)
{
	static unsigned char buf[16384];
	char path[PATH_MAX];
	unsigned long total = 0;

	drv_fill(buf, sizeof(buf), 42);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		err(EX_CANTCREAT, "%s", dir);
	for (unsigned long i = 0; i < n; i++) {
		size_t size = (size_t)((i * 7919u) % sizeof(buf)) + 1;
		int fd;

		if (i % 100 == 0) {
			snprintf(path, sizeof(path), "%s/d%03lu", dir, i / 100);
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				err(EX_CANTCREAT, "%s", path);
		}
		snprintf(path, sizeof(path), "%s/d%03lu/f%05lu", dir, i / 100, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, buf, size) != (ssize_t)size)
			err(EX_CANTCREAT, "%s", path);
		close(fd);
		total += size;
	}
	printf("%lu files, %lu bytes\n", n, total);
	return 0;
}

/* mkbig FILE MIB: a file of MIB MiB of non-zero bytes. */
static int drv_mkbig(const char *path, unsigned long mib)
{
	unsigned char *buf = malloc(1 << 20);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (!buf || fd < 0)
		err(EX_CANTCREAT, "%s", path);
	for (unsigned long i = 0; i < mib; i++) {
		drv_fill(buf, 1 << 20, i + 7);
		if (write(fd, buf, 1 << 20) != 1 << 20)
			err(EX_IOERR, "%s", path);
	}
	close(fd);
	free(buf);
	return 0;
}

/* read FILE: one sequential pass with 1 MiB reads; prints MB/s (10^6 bytes). */
static int drv_read(const char *path)
{
	size_t bs = 1 << 20;
	char *buf = malloc(bs);
	unsigned long long total = 0;
	double t0 = drv_now(), t;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (!buf || fd < 0)
		err(EX_NOINPUT, "%s", path);
	while ((n = read(fd, buf, bs)) > 0)
		total += (unsigned long long)n;
	if (n < 0)
		err(EX_IOERR, "%s", path);
	close(fd);
	t = drv_now() - t0;
	printf("%.0f\n", (double)total / 1e6 / t);
	free(buf);
	return 0;
}

/* stat FILE N: µs per stat(2) after a warm-up. */
static int drv_stat(const char *path, unsigned long n)
{
	struct stat st;
	double t0;

	for (int i = 0; i < 1000; i++)
		if (stat(path, &st) < 0)
			err(EX_NOINPUT, "%s", path);
	t0 = drv_now();
	for (unsigned long i = 0; i < n; i++)
		if (stat(path, &st) < 0)
			err(EX_IOERR, "stat %s (iteration %lu)", path, i);
	printf("%.2f\n", (drv_now() - t0) * 1e6 / (double)n);
	return 0;
}

static int drv_open_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = pread(fd, buf, len, 0);
	if (r < 0) {
		r = -errno;
		close(fd);
		return (int)r;
	}
	if (close(fd) < 0)
		return -errno;
	return 0;
}

/* openread FILE N: µs per open + pread 4 KiB + close after a warm-up. */
static int drv_openread(const char *path, unsigned long n)
{
	char buf[4096];
	double t0;
	int r;

	for (int i = 0; i < 1000; i++)
		if ((r = drv_open_read(path, buf, sizeof(buf))))
			errx(EX_NOINPUT, "%s: %s", path, strerror(-r));
	t0 = drv_now();
	for (unsigned long i = 0; i < n; i++)
		if ((r = drv_open_read(path, buf, sizeof(buf))))
			errx(EX_IOERR, "%s (iteration %lu): %s", path, i, strerror(-r));
	printf("%.2f\n", (drv_now() - t0) * 1e6 / (double)n);
	return 0;
}

/*
 * opens LIST N: N open + read 4 KiB + close, cycling over the paths in LIST
 * (one a line).  Prints the mean µs of each tenth of the run, then "ok N" or
 * "error AT: MESSAGE" at the first failure.
 */
static int drv_opens(const char *list, unsigned long n)
{
	FILE *f = fopen(list, "r");
	char **paths = NULL, line[PATH_MAX], buf[4096];
	size_t np = 0, cap = 0;
	unsigned long step = n / 10 ? n / 10 : 1;
	double t0;

	if (!f)
		err(EX_NOINPUT, "%s", list);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (np == cap && !(paths = realloc(paths, (cap = cap ? 2 * cap : 1024) * sizeof(*paths))))
			err(EX_OSERR, "realloc");
		if (!(paths[np++] = strdup(line)))
			err(EX_OSERR, "strdup");
	}
	fclose(f);
	if (!np)
		errx(EX_DATAERR, "%s: no paths", list);
	t0 = drv_now();
	for (unsigned long i = 0; i < n; i++) {
		int r = drv_open_read(paths[i % np], buf, sizeof(buf));

		if (r) {
			printf("\nerror %lu: %s: %s\n", i, paths[i % np], strerror(-r));
			return 1;
		}
		if ((i + 1) % step == 0) {
			double t = drv_now();

			printf("%.2f ", (t - t0) * 1e6 / (double)step);
			fflush(stdout);
			t0 = t;
		}
	}
	printf("\nok %lu\n", n);
	for (size_t i = 0; i < np; i++)
		free(paths[i]);
	free(paths);
	return 0;
}

/*
 * boot MARKER CMD ARGS...: runs CMD with stdout on a pipe (stderr to /dev/null)
 * and prints the ms from just before exec to the first MARKER on stdout, the ms
 * to its exit, and its exit status.  Everything CMD prints is copied to fd 3 if open.
 */
static int drv_boot(const char *marker, char **argv)
{
	size_t mlen = strlen(marker), have = 0;
	char buf[65536], *tail = malloc(mlen + sizeof(buf));
	int p[2], status, copy = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
	double t0, tmark = -1;
	pid_t pid;
	ssize_t n;

	if (!tail || pipe(p) < 0)
		err(EX_OSERR, "pipe");
	t0 = drv_now();
	pid = fork();
	if (pid < 0)
		err(EX_OSERR, "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(p[1], STDOUT_FILENO);
		if (copy < 0)
			dup2(null, STDERR_FILENO);
		dup2(null, STDIN_FILENO);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err(EX_IOERR, "read");
		}
		if (tmark < 0) {
			double t = drv_now();

			/* The marker may straddle two reads: search the kept tail plus this read. */
			memcpy(tail + have, buf, (size_t)n);
			have += (size_t)n;
			if (memmem(tail, have, marker, mlen))
				tmark = t;
			else if (have >= mlen)
				memmove(tail, tail + have - (mlen - 1), mlen - 1), have = mlen - 1;
		}
		if (copy >= 0 && write(copy, buf, (size_t)n) < 0)
			copy = -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			err(EX_OSERR, "waitpid");
	printf("%.1f %.1f %d\n", tmark < 0 ? -1.0 : (tmark - t0) * 1e3, (drv_now() - t0) * 1e3,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	free(tail);
	return 0;
}

/*
 * waitfor FILE MARKER MS: polls FILE every 0.5 ms until it holds MARKER; prints the
 * CLOCK_REALTIME microseconds of the poll that saw it (bash's $EPOCHREALTIME scale), or
 * exits 1 after MS milliseconds.
 */
static int drv_waitfor(const char *path, const char *marker, unsigned long ms)
{
	static char buf[1 << 20];
	double end = drv_now() + (double)ms / 1e3;
	struct timespec ts;

	for (;;) {
		int fd = open(path, O_RDONLY);

		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf));

			close(fd);
			if (n > 0 && memmem(buf, (size_t)n, marker, strlen(marker))) {
				clock_gettime(CLOCK_REALTIME, &ts);
				printf("%lld\n", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
				return 0;
			}
		}
		if (drv_now() > end)
			return 1;
		usleep(500);
	}
}

/*
 * folios FILE: how much of FILE's page cache sits in large folios (root: PFNs from
 * /proc/self/pagemap, flags from /proc/kpageflags).  Prints "PAGES LARGE_PERCENT".
 */
static int drv_folios(const char *path)
{
	int fd = open(path, O_RDONLY), pm = open("/proc/self/pagemap", O_RDONLY);
	int kf = open("/proc/kpageflags", O_RDONLY);
	long psz = sysconf(_SC_PAGESIZE);
	unsigned long present = 0, large = 0;
	volatile const unsigned char *map;
	struct stat st;
	size_t len;

	if (fd < 0 || pm < 0 || kf < 0 || fstat(fd, &st) < 0)
		err(EX_NOINPUT, "%s, /proc/self/pagemap or /proc/kpageflags", path);
	len = (size_t)st.st_size;
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		err(EX_OSERR, "mmap %s", path);
	for (size_t off = 0; off < len; off += (size_t)psz) {
		uint64_t ent, flags;

		(void)map[off];
		if (pread(pm, &ent, 8, (off_t)(((uintptr_t)map + off) / (uintptr_t)psz * 8)) != 8)
			err(EX_OSERR, "pagemap");
		if (!(ent >> 63) || !(ent & ((1ull << 55) - 1)))
			continue;
		if (pread(kf, &flags, 8, (off_t)((ent & ((1ull << 55) - 1)) * 8)) != 8)
			err(EX_OSERR, "kpageflags");
		present++;
		large += (flags >> 15 & 1) | (flags >> 16 & 1); /* KPF_COMPOUND_HEAD, KPF_COMPOUND_TAIL */
	}
	printf("%lu %.0f\n", present, present ? 100.0 * (double)large / (double)present : 0.0);
	munmap((void *)(uintptr_t)map, len);
	close(fd);
	close(pm);
	close(kf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "mktree") == 0 && argc == 4)
		return drv_mktree(argv[2], drv_num(argv[3]));
	if (strcmp(cmd, "mkbig") == 0 && argc == 4)
		return drv_mkbig(argv[2], drv_num(argv[3]));
	if (strcmp(cmd, "read") == 0 && argc == 3)
		return drv_read(argv[2]);
	if (strcmp(cmd, "stat") == 0 && argc == 4)
		return drv_stat(argv[2], drv_num(argv[3]));
	if (strcmp(cmd, "openread") == 0 && argc == 4)
		return drv_openread(argv[2], drv_num(argv[3]));
	if (strcmp(cmd, "opens") == 0 && argc == 4)
		return drv_opens(argv[2], drv_num(argv[3]));
	if (strcmp(cmd, "folios") == 0 && argc == 3)
		return drv_folios(argv[2]);
	if (strcmp(cmd, "waitfor") == 0 && argc == 5)
		return drv_waitfor(argv[2], argv[3], drv_num(argv[4]));
	if (strcmp(cmd, "boot") == 0 && argc >= 4)
		return drv_boot(argv[2], argv + 3);
	fprintf(stderr, "usage: drv mktree DIR N | mkbig FILE MIB | read FILE | stat FILE N |\n"
			"       openread FILE N | opens LIST N | boot MARKER CMD [ARG...] |\n"
			"       waitfor FILE MARKER MS | folios FILE\n");
	return EX_USAGE;
}
