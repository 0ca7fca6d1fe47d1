/* test_plugin_real.c: the real FreeBSD userboot.so under $KVMLOAD_FREEBSD_ROOT loads, is told apart, and exposes loader_main (never run here). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "plugin.h"

/*
 * Rules b and c on real compiled code: give a copy of the 10.x binary a
 * marker (over its bootprog_name string) and let exit and host_stat speak:
 * exit calls *0x98 (no diskwrite), host_stat fills %r9 (old stat).
 */
static int test_load(struct plugin *p, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY), e = errno, r;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	r = plugin_load_fd(p, fd, path, err, errlen);
	close(fd);
	return r;
}

static void test_v5_rules_on_real_code(const char *path)
{
	static const char name[] = "FreeBSD/amd64 User boot";
	static const char marker[] = "$Interpreter:4th";
	char err[512] = "";
	struct plugin p;
	uint8_t *b, *m;
	size_t len;
	FILE *f = fopen(path, "rb");
	struct stat st;

	CHECK(f != NULL && fstat(fileno(f), &st) == 0);
	if (!f)
		return;
	len = (size_t)st.st_size;
	b = malloc(len);
	CHECK(b != NULL && fread(b, 1, len, f) == len);
	fclose(f);
	m = memmem(b, len, name, sizeof(name) - 1);
	CHECK(m != NULL);
	if (m) {
		memcpy(m, marker, sizeof(marker)); /* with its NUL */
		CHECK_EQ(plugin_load_mem(&p, b, len, err, sizeof(err)), 0);
		CHECK_EQ(p.gen.version, 5);
		CHECK_EQ(p.gen.diskwrite, 0);
		CHECK_EQ(p.gen.stat_struct, 0);
		CHECK_STR(p.gen.interp, "4th");
		plugin_unload(&p);
	}
	free(b);
}

int main(void)
{
	const char *root = getenv("KVMLOAD_FREEBSD_ROOT");
	char path[4096], err[512] = "";
	struct plugin p, q;
	struct stat st;
	int r;

	if (!root || !*root) {
		check_skip("KVMLOAD_FREEBSD_ROOT is not set");
		return check_done();
	}
	snprintf(path, sizeof(path), "%s/boot/userboot.so", root);
	if (stat(path, &st) != 0) {
		check_skip("no %s", path);
		return check_done();
	}
	r = test_load(&p, path, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ(r, 0);
	if (r != 0)
		return check_done();
	/* 10.x: no "$Interpreter:" marker, exit calls slot 0x98, old stat form. */
	CHECK_EQ(p.gen.version, 3);
	CHECK_EQ(p.gen.diskwrite, 0);
	CHECK_EQ(p.gen.stat_struct, 0);
	CHECK_STR(p.gen.interp, "");
	CHECK_STR(p.gen.label, "FreeBSD 10.0-11.2 (version 3, old stat, no diskwrite)");
	CHECK(p.entry != NULL);
	CHECK((uint8_t *)(uintptr_t)p.entry > p.base &&
	      (uint8_t *)(uintptr_t)p.entry < p.base + p.map_size);
	/* Its ~10 MiB .bss heap is inside the image. */
	CHECK(p.map_size > (10u << 20));
	/* A second load is a separate image. */
	CHECK_EQ(test_load(&q, path, err, sizeof(err)), 0);
	CHECK(q.base != p.base);
	plugin_unload(&q);
	plugin_unload(&p);
	test_v5_rules_on_real_code(path);
	return check_done();
}
