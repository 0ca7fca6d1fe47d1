/* test_beneath.c: opening beneath a root (escapes are EPERM) and reading a regular file whole, within a cap. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "check.h"

static char tmp[] = "/tmp/test_beneath.XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static void test_open(int root)
{
	char path[4096];

	errno = 0;
	CHECK_EQ(beneath_open(root, "../x", O_RDONLY), -1);
	CHECK_EQ(errno, EPERM); /* openat2's EXDEV */
	CHECK_EQ(beneath_open(root, "/etc/hostname", O_RDONLY), -1);
	CHECK_EQ(errno, EPERM);
	snprintf(path, sizeof(path), "%s/abs", tmp);
	CHECK_EQ(symlink("/etc", path), 0);
	CHECK_EQ(beneath_open_file(root, "abs/hostname"), -EPERM);
	CHECK_EQ(beneath_open_file(root, "."), -EISDIR);
	snprintf(path, sizeof(path), "%s/fifo", tmp);
	CHECK_EQ(mkfifo(path, 0600), 0);
	CHECK_EQ(beneath_open_file(root, "fifo"), -EINVAL); /* opened without blocking, then refused */
	CHECK_EQ(beneath_open_file(root, "none"), -ENOENT);
}

static void test_read(int root)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, p[2];

	put("f", "0123456789");
	CHECK_EQ(beneath_read_all(root, "f", 10, &buf, &len), 0);
	CHECK_EQ(len, 10);
	CHECK(buf && memcmp(buf, "0123456789", 10) == 0);
	free(buf);
	CHECK_EQ(beneath_read_all(root, "f", 9, &buf, &len), -EFBIG);
	CHECK_EQ(len, 10); /* the size, for the message */
	put("empty", "");
	buf = NULL;
	CHECK_EQ(beneath_read_all(root, "empty", 9, &buf, &len), 0);
	CHECK_EQ(len, 0);
	CHECK(buf != NULL);
	free(buf);
	CHECK_EQ(beneath_read_all(root, "../f", 10, &buf, &len), -EPERM);
	CHECK_EQ(beneath_read_all(root, ".", 10, &buf, &len), -EISDIR);
	/* From the start, whatever the descriptor's offset. */
	fd = beneath_open_file(root, "f");
	CHECK(fd >= 0);
	CHECK_EQ(lseek(fd, 4, SEEK_SET), 4);
	CHECK_EQ(beneath_read_fd(fd, 100, &buf, &len), 0);
	CHECK(len == 10 && memcmp(buf, "0123456789", 10) == 0);
	free(buf);
	close(fd);
	/* Any descriptor: a pipe is not a regular file. */
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(beneath_read_fd(p[0], 100, &buf, &len), -EINVAL);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	char cmd[64];
	int root, r;

	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 2;
	}
	root = open(tmp, O_PATH | O_DIRECTORY);
	CHECK(root >= 0);
	test_open(root);
	test_read(root);
	close(root);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	r = system(cmd);
	(void)r;
	return check_done();
}
