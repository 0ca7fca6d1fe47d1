/* test_cb_hostfs.c: the host-file callbacks over a temporary -h tree: confinement, read/readdir/seek/stat, errno. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "freebsd_abi_xlate.h"
#include "test_cb.h"

#define BIG_SIZE 10000
#define LOADER_CONF "autoboot_delay=2\nbeastie_disable=YES\n"

static char top[256];       /* holds secret (outside) and root/ (the -h tree) */
static char root[300];

static uint8_t big_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static void must(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		exit(1);
	}
}

static void put_file(const char *rel, const void *data, size_t len)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	must(fd >= 0 && write(fd, data, len) == (ssize_t)len, p);
	close(fd);
}

static void put(const char *kind, const char *rel, const char *target)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (strcmp(kind, "dir") == 0)
		must(mkdir(p, 0755) == 0, p);
	else if (strcmp(kind, "link") == 0)
		must(symlink(target, p) == 0, p);
	else
		must(mkfifo(p, 0644) == 0, p);
}

static void tree_make(void)
{
	static uint8_t big[BIG_SIZE];
	const char *tmp = getenv("TMPDIR");

	snprintf(top, sizeof(top), "%s/kvmload-cb-XXXXXX", tmp ? tmp : "/tmp");
	must(mkdtemp(top) != NULL, "mkdtemp");
	snprintf(root, sizeof(root), "%s/root", top);
	put_file("secret", "outside\n", 8);
	put("dir", "root", NULL);
	put("dir", "root/boot", NULL);
	put("dir", "root/boot/kernel", NULL);
	put_file("root/boot/loader.conf", LOADER_CONF, strlen(LOADER_CONF));
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = big_byte(i);
	put_file("root/boot/big", big, BIG_SIZE);
	put("link", "root/boot/conf_link", "loader.conf");     /* legitimate, relative */
	put("link", "root/boot/kernel_link", "../boot/kernel"); /* legitimate, climbs and returns */
	put("link", "root/etclink", "/etc");                    /* absolute */
	put("link", "root/boot/climb", "../../secret");         /* relative, climbs out */
	put("link", "root/proclink", "/proc/self/root");        /* to a magic link */
	put("fifo", "root/boot/fifo", NULL);
}

static void tree_remove(void)
{
	static const char *const rels[] = {
		"root/boot/fifo", "root/proclink", "root/boot/climb", "root/etclink",
		"root/boot/kernel_link", "root/boot/conf_link", "root/boot/big",
		"root/boot/loader.conf", "root/boot/kernel", "root/boot", "root", "secret",
	};
	char p[PATH_MAX];

	for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", top, rels[i]);
		remove(p);
	}
	rmdir(top);
}

/* Open through the callback; returns the FreeBSD errno and closes any handle it got. */
static int open_err(struct loader *l, const char *path)
{
	void *h = NULL;
	int e = cb_open(l, path, &h);

	if (e == 0)
		cb_close(l, h);
	return e;
}

static void test_errno_table(void)
{
	CHECK_EQ(freebsd_abi_errno(0), 0);
	CHECK_EQ(freebsd_abi_errno(ENOENT), 2);
	CHECK_EQ(freebsd_abi_errno(EROFS), 30);
	CHECK_EQ(freebsd_abi_errno(40 /* ELOOP */), 62);
	CHECK_EQ(freebsd_abi_errno(36 /* ENAMETOOLONG */), 63);
	CHECK_EQ(freebsd_abi_errno(39 /* ENOTEMPTY */), 66);
	CHECK_EQ(freebsd_abi_errno(11 /* EAGAIN */), 35);
	CHECK_EQ(freebsd_abi_errno(35 /* EDEADLK */), 11);
	CHECK_EQ(freebsd_abi_errno(38 /* ENOSYS */), 78);
	CHECK_EQ(freebsd_abi_errno(75 /* EOVERFLOW */), 84);
	CHECK_EQ(freebsd_abi_errno(95 /* EOPNOTSUPP */), 45);
	CHECK_EQ(freebsd_abi_errno(116 /* ESTALE */), 70);
	CHECK_EQ(freebsd_abi_errno(62 /* ETIME: none on FreeBSD */), 5);
	CHECK_EQ(freebsd_abi_errno(4095), 5);
	CHECK_EQ(freebsd_abi_errno(-1), 5);
	CHECK_EQ(freebsd_abi_whence(0), SEEK_SET);
	CHECK_EQ(freebsd_abi_whence(2), SEEK_END);
	CHECK_EQ(freebsd_abi_whence(3), -1);
	CHECK_EQ(freebsd_abi_mode(S_IFDIR | 01755), 041755);
}

static void test_no_host(struct loader *l)
{
	l->host_fd = -1;
	CHECK_EQ(open_err(l, "/boot/loader.conf"), FBSD_ENOENT);
}

static void test_escapes(struct loader *l)
{
	char longpath[PATH_MAX + 64];
	char longname[300];

	CHECK_EQ(open_err(l, "../x"), FBSD_EPERM);
	CHECK_EQ(open_err(l, "../secret"), FBSD_EPERM);
	CHECK_EQ(open_err(l, "/../../etc/passwd"), FBSD_EPERM);
	CHECK_EQ(open_err(l, "/boot/../../etc/passwd"), FBSD_EPERM);
	CHECK_EQ(open_err(l, "/etclink/passwd"), FBSD_EPERM);
	CHECK_EQ(open_err(l, "/etclink"), FBSD_EPERM);
	CHECK_EQ(open_err(l, "/boot/climb"), FBSD_EPERM);
	CHECK_EQ(open_err(l, "/proclink/etc/passwd"), FBSD_EPERM);

	/* A path longer than PATH_MAX, and one over-long component (Linux 36 -> FreeBSD 63). */
	memset(longpath, 0, sizeof(longpath));
	for (size_t i = 0; i + 2 < sizeof(longpath) - 1; i += 2)
		memcpy(longpath + i, "a/", 2);
	CHECK_EQ(open_err(l, longpath), FBSD_ENAMETOOLONG);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(open_err(l, longname), FBSD_ENAMETOOLONG);

	/* Magic links are refused even when the root itself is where they live. */
	int saved = l->host_fd;
	l->host_fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(l->host_fd >= 0);
	CHECK_EQ(open_err(l, "root/etc/passwd"), FBSD_ELOOP);
	CHECK_EQ(open_err(l, "cwd"), FBSD_ELOOP);
	close(l->host_fd);
	l->host_fd = saved;

	/* Legitimate symlinks inside the tree still work. */
	void *h = NULL;
	char buf[64];
	size_t resid = 0;
	CHECK_EQ(cb_open(l, "/boot/conf_link", &h), 0);
	CHECK_EQ(cb_read(l, h, buf, sizeof(buf), &resid), 0);
	CHECK_EQ(resid, sizeof(buf) - strlen(LOADER_CONF));
	CHECK(memcmp(buf, LOADER_CONF, strlen(LOADER_CONF)) == 0);
	CHECK_EQ(cb_close(l, h), 0);
	CHECK_EQ(cb_open(l, "/boot/kernel_link", &h), 0);
	CHECK_EQ(cb_isdir(l, h), 1);
	CHECK_EQ(cb_close(l, h), 0);

	CHECK_EQ(l->nhostfiles, 0);
}

static void test_open_kinds(struct loader *l)
{
	void *h = NULL;

	CHECK_EQ(open_err(l, "/boot/missing"), FBSD_ENOENT);
	CHECK_EQ(open_err(l, "/boot/loader.conf/x"), FBSD_ENOTDIR);
	/* A FIFO in the tree is refused at once instead of blocking the loader. */
	CHECK_EQ(open_err(l, "/boot/fifo"), FBSD_EINVAL);
	/* "/" and "" both name the root. */
	CHECK_EQ(cb_open(l, "/", &h), 0);
	CHECK_EQ(cb_isdir(l, h), 1);
	cb_close(l, h);
	CHECK_EQ(cb_open(l, "", &h), 0);
	CHECK_EQ(cb_isdir(l, h), 1);
	cb_close(l, h);
	CHECK_EQ(cb_open(l, "/boot/loader.conf", &h), 0);
	CHECK_EQ(cb_isdir(l, h), 0);
	/* A directory handle has no byte offset. */
	cb_close(l, h);
	CHECK_EQ(cb_open(l, "/boot", &h), 0);
	CHECK_EQ(cb_seek(l, h, 0, 0 /* SEEK_SET */), FBSD_EINVAL);
	cb_close(l, h);
}

static void test_handle_limit(struct loader *l)
{
	void *h[LOADER_MAX_HOSTFILES];
	void *extra = NULL;
	int ok = 0;

	for (int i = 0; i < LOADER_MAX_HOSTFILES; i++)
		ok += cb_open(l, "/boot/loader.conf", &h[i]) == 0;
	CHECK_EQ(ok, LOADER_MAX_HOSTFILES);
	CHECK_EQ(cb_open(l, "/boot/loader.conf", &extra), FBSD_EMFILE);
	cb_close(l, h[0]);
	CHECK_EQ(cb_open(l, "/boot", &h[0]), 0);
	for (int i = 0; i < LOADER_MAX_HOSTFILES; i++)
		cb_close(l, h[i]);
	CHECK_EQ(l->nhostfiles, 0);
}

static int bytes_match(const uint8_t *buf, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != big_byte(from + i))
			return 0;
	return 1;
}

static void test_read_seek(struct loader *l)
{
	static uint8_t buf[8192];
	void *h = NULL;
	size_t resid = 12345;

	CHECK_EQ(cb_open(l, "/boot/big", &h), 0);
	CHECK_EQ(cb_read(l, h, buf, 4096, &resid), 0);
	CHECK_EQ(resid, 0);
	CHECK(bytes_match(buf, 0, 4096));

	/* seek answers 0, not the new offset.  FreeBSD's whence: SEEK_SET 0, SEEK_CUR 1, SEEK_END 2. */
	CHECK_EQ(cb_seek(l, h, 9000, 0), 0);
	CHECK_EQ(cb_read(l, h, buf, 4096, &resid), 0);
	CHECK_EQ(resid, 4096 - (BIG_SIZE - 9000));
	CHECK(bytes_match(buf, 9000, BIG_SIZE - 9000));
	CHECK_EQ(cb_read(l, h, buf, 16, &resid), 0);
	CHECK_EQ(resid, 16);

	/* libsa's negative SEEK_CUR arrives as a huge unsigned value. */
	CHECK_EQ(cb_seek(l, h, (uint64_t)-100, 1), 0);
	CHECK_EQ(cb_read(l, h, buf, 50, &resid), 0);
	CHECK_EQ(resid, 0);
	CHECK(bytes_match(buf, BIG_SIZE - 100, 50));

	CHECK_EQ(cb_seek(l, h, (uint64_t)-10, 2), 0);
	CHECK_EQ(cb_read(l, h, buf, 20, &resid), 0);
	CHECK_EQ(resid, 10);
	CHECK(bytes_match(buf, BIG_SIZE - 10, 10));

	CHECK_EQ(cb_seek(l, h, 0, 0), 0);
	CHECK_EQ(cb_seek(l, h, (uint64_t)-5, 1), FBSD_EINVAL);
	CHECK_EQ(cb_seek(l, h, 0, 7), FBSD_EINVAL);
	cb_close(l, h);
}

struct seen {
	int dir, file, link, dot;
	uint8_t dir_type, file_type, link_type;
	size_t file_namelen;
};

static void test_readdir(struct loader *l)
{
	struct seen s = { 0 };
	void *h = NULL;
	char name[256];
	uint32_t fileno;
	uint8_t type;
	size_t namelen;
	struct stat st;
	char p[PATH_MAX];
	int e, n = 0;

	snprintf(p, sizeof(p), "%s/boot/loader.conf", root);
	must(stat(p, &st) == 0, p);
	CHECK_EQ(cb_open(l, "/boot", &h), 0);
	while ((e = cb_readdir(l, h, &fileno, &type, &namelen, name)) == 0 && n++ < 100) {
		CHECK_EQ(namelen, strlen(name));
		if (strcmp(name, "kernel") == 0) {
			s.dir++;
			s.dir_type = type;
		} else if (strcmp(name, "loader.conf") == 0) {
			s.file++;
			s.file_type = type;
			s.file_namelen = namelen;
			CHECK_EQ(fileno, (uint32_t)st.st_ino);
		} else if (strcmp(name, "conf_link") == 0) {
			s.link++;
			s.link_type = type;
		} else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			s.dot++;
		}
	}
	CHECK_EQ(e, FBSD_ENOENT); /* end of directory */
	CHECK_EQ(n, 9); /* ., .., kernel, loader.conf, big, conf_link, kernel_link, climb, fifo */
	CHECK_EQ(cb_readdir(l, h, &fileno, &type, &namelen, name), FBSD_ENOENT);
	CHECK_EQ(s.dir, 1);
	CHECK_EQ(s.file, 1);
	CHECK_EQ(s.link, 1);
	CHECK_EQ(s.dot, 2);
	/* FreeBSD's <sys/dirent.h>: DT_DIR 4, DT_REG 8, DT_LNK 10. */
	CHECK_EQ(s.dir_type, 4);
	CHECK_EQ(s.file_type, 8);
	CHECK_EQ(s.link_type, 10);
	CHECK_EQ(s.file_namelen, 11);
	cb_close(l, h);

	/* readdir on a file handle is refused. */
	CHECK_EQ(cb_open(l, "/boot/big", &h), 0);
	CHECK_EQ(cb_readdir(l, h, &fileno, &type, &namelen, name), FBSD_ENOTDIR);
	cb_close(l, h);
}

static uint64_t rd64(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

static uint32_t rd32(const uint8_t *b, size_t off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return v;
}

static uint16_t rd16(const uint8_t *b, size_t off)
{
	uint16_t v;
	memcpy(&v, b + off, 2);
	return v;
}

static void test_stat(struct loader *l)
{
	uint8_t buf[224 + 16];
	struct stat st;
	char p[PATH_MAX];
	void *h = NULL;
	int mode = 0, uid = -1, gid = -1;
	uint64_t size = 0;

	snprintf(p, sizeof(p), "%s/boot/big", root);
	must(stat(p, &st) == 0, p);
	CHECK_EQ(cb_open(l, "/boot/big", &h), 0);

	CHECK_EQ(cb_stat_old(l, h, &mode, &uid, &gid, &size), 0);
	CHECK_EQ(mode, 0100644);
	CHECK_EQ(uid, (int)getuid());
	CHECK_EQ(gid, (int)getgid());
	CHECK_EQ(size, BIG_SIZE);

	/* The new form writes exactly 224 bytes at FreeBSD's offsets. */
	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(cb_stat_new(l, h, (struct fbsd_stat *)buf), 0);
	CHECK_EQ(rd64(buf, 0), st.st_dev);
	CHECK_EQ(rd64(buf, 8), st.st_ino);
	CHECK_EQ(rd64(buf, 16), 1);          /* nlink */
	CHECK_EQ(rd16(buf, 24), 0100644);    /* mode */
	CHECK_EQ(rd16(buf, 26), 0);          /* padding */
	CHECK_EQ(rd32(buf, 28), getuid());
	CHECK_EQ(rd32(buf, 32), getgid());
	CHECK_EQ(rd32(buf, 36), 0);          /* padding */
	CHECK_EQ(rd64(buf, 64), st.st_mtim.tv_sec);
	CHECK_EQ(rd64(buf, 72), st.st_mtim.tv_nsec);
	CHECK_EQ(rd64(buf, 96), 0);          /* birthtime: unknown */
	CHECK_EQ(rd64(buf, 112), BIG_SIZE);
	CHECK_EQ(rd64(buf, 120), st.st_blocks);
	CHECK_EQ(rd32(buf, 128), st.st_blksize);
	CHECK_EQ(rd32(buf, 132), 0);         /* flags */
	int spare_zero = 1;
	for (size_t i = 136; i < 224; i++)
		spare_zero &= buf[i] == 0;
	CHECK(spare_zero);
	CHECK_EQ(buf[224], 0xaa);            /* nothing beyond the struct */
	cb_close(l, h);

	CHECK_EQ(cb_open(l, "/boot", &h), 0);
	CHECK_EQ(cb_stat_old(l, h, &mode, &uid, &gid, &size), 0);
	CHECK_EQ(mode & 0170000, 0040000); /* S_IFMT, S_IFDIR */
	cb_close(l, h);
}

int main(void)
{
	struct loader *l = test_loader_new();

	tree_make();
	test_errno_table();
	test_no_host(l);
	l->host_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	must(l->host_fd >= 0, root);
	test_escapes(l);
	test_open_kinds(l);
	test_handle_limit(l);
	test_read_seek(l);
	test_readdir(l);
	test_stat(l);
	close(l->host_fd);
	test_loader_free(l);
	tree_remove();
	return check_done();
}
