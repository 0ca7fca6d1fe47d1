/* test_plugin_pick.c: the $Interpreter: marker rule, reading /boot/loader beneath a root, and the plugin search order. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "plugin_pick.h"

static char tmp[] = "/tmp/test_plugin_pick.XXXXXX";

static void put(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static void dir(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	if (mkdir(path, 0755) < 0) {
		perror(path);
		exit(2);
	}
}

static const char *marker(const char *bytes, size_t len)
{
	static char out[PLUGIN_INTERP_MAX + 1];

	return plugin_interp_find(span_make(bytes, len), out) ? out : "(none)";
}

#define MARK(lit) marker(lit, sizeof(lit) - 1)

static void test_marker(void)
{
	CHECK_STR(MARK("abc$Interpreter:lua\0rest"), "lua");
	CHECK_STR(MARK("$Interpreter:4th\0"), "4th");
	CHECK_STR(MARK("no marker here"), "(none)");
	/* The name must end in a NUL inside the file. */
	CHECK_STR(MARK("$Interpreter:lua"), "(none)");
	CHECK_STR(MARK("$Interpreter:\0"), "(none)");
	CHECK_STR(MARK("$Interpreter:Lua\0"), "(none)");
	CHECK_STR(MARK("$Interpreter:sixteen_chars_xx\0"), "(none)");
	/* PLUGIN_INTERP_MAX (31) bytes whole; one more is no name at all, not a shorter one. */
	CHECK_STR(MARK("$Interpreter:abcdefghijklmnop\0"), "abcdefghijklmnop");
	CHECK_STR(MARK("$Interpreter:abcdefghijklmnopqrstuvwxyz01234\0"), "abcdefghijklmnopqrstuvwxyz01234");
	CHECK_STR(MARK("$Interpreter:abcdefghijklmnopqrstuvwxyz012345\0"), "(none)");
	/* A bad first marker does not hide a good later one. */
	CHECK_STR(MARK("$Interpreter:\xff\0$Interpreter:lua\0"), "lua");
	CHECK_STR(MARK("$Interpreter:lua\0$Interpreter:4th\0"), "lua");
	CHECK_STR(MARK("$Interp"), "(none)");
	CHECK_STR(marker("", 0), "(none)");
}

static void test_interp(void)
{
	char interp[PLUGIN_INTERP_MAX + 1];
	int root;

	root = open(tmp, O_PATH | O_DIRECTORY);
	CHECK(root >= 0);
	CHECK_EQ(plugin_pick_interp(-1, interp), PLUGIN_PICK_NOLOADER);
	CHECK_STR(interp, "");
	CHECK_EQ(plugin_pick_interp(root, interp), PLUGIN_PICK_NOLOADER);
	dir("boot");
	put("boot/loader", "ELF...$Interpreter:lua\0...", 26);
	CHECK_EQ(plugin_pick_interp(root, interp), PLUGIN_PICK_MARKER);
	CHECK_STR(interp, "lua");
	put("boot/loader", "ELF without a marker", 20);
	CHECK_EQ(plugin_pick_interp(root, interp), PLUGIN_PICK_NOMARKER);
	CHECK_STR(interp, "4th");
	/* A symlink out of the root is not followed. */
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/boot/loader", tmp);
		unlink(path);
		CHECK_EQ(symlink("/etc/hostname", path), 0);
	}
	CHECK_EQ(plugin_pick_interp(root, interp), PLUGIN_PICK_NOLOADER);
	close(root);
}

/* plugin_pick_find's answer, its chosen candidate's fd checked (open on that one only) and closed. */
static int found(struct plugin_pick *p, int i)
{
	for (int k = 0; k < p->n; k++)
		if (k != i && p->c[k].fd != -1)
			return -1000;
	if (i >= 0) {
		if (i != p->n - 1 || p->c[i].fd < 0 || p->c[i].err != 0)
			return -1001;
		close(p->c[i].fd);
	}
	return i;
}

#define FIND(interp, swap) found(&p, plugin_pick_find(&p, &w, interp, swap))

/* The bytes of the candidate's fd. */
static const char *cand_bytes(const struct plugin_pick_cand *c)
{
	static char b[64];
	ssize_t n = pread(c->fd, b, sizeof(b) - 1, 0);

	b[n > 0 ? n : 0] = '\0';
	return b;
}

static void test_find(void)
{
	struct plugin_pick p;
	struct plugin_pick_where w;
	char host[PATH_MAX], guest[PATH_MAX], path[PATH_MAX];
	int i;

	dir("host");
	dir("guest");
	dir("guest/boot");
	snprintf(host, sizeof(host), "%s/host", tmp);
	snprintf(guest, sizeof(guest), "%s/guest", tmp);
	w.loader_dir = host;
	w.guest_dir = guest;
	w.guest_fd = open(guest, O_PATH | O_DIRECTORY);
	CHECK(w.guest_fd >= 0);

	/* Nothing anywhere: four candidates in order, all ENOENT. */
	CHECK_EQ(FIND("lua", false), -ENOENT);
	CHECK_EQ(p.n, 4);
	CHECK(strstr(p.c[0].path, "/host/userboot_lua.so") && !p.c[0].guest && !p.c[0].generic);
	CHECK(strstr(p.c[1].path, "/host/userboot.so") && !p.c[1].guest && p.c[1].generic);
	CHECK(strstr(p.c[2].path, "/guest/boot/userboot_lua.so") && p.c[2].guest);
	CHECK(strstr(p.c[3].path, "/guest/boot/userboot.so") && p.c[3].guest && p.c[3].generic);
	CHECK_EQ(p.c[0].err, ENOENT);
	CHECK_EQ(p.c[3].err, ENOENT);

	/* The guest's named plugin before the guest's generic one. */
	put("guest/boot/userboot.so", "x", 1);
	put("guest/boot/userboot_lua.so", "x", 1);
	CHECK_EQ(FIND("lua", false), 2);
	/* The host's generic one before anything of the guest's; the search stops there. */
	put("host/userboot.so", "x", 1);
	CHECK_EQ(FIND("lua", false), 1);
	CHECK_EQ(p.n, 2);
	/* ... but a swap wants the named plugin: the guest's. */
	CHECK_EQ(FIND("lua", true), 1);
	CHECK_EQ(p.n, 2);
	CHECK(p.c[1].guest && !p.c[1].generic);
	put("host/userboot_lua.so", "x", 1);
	CHECK_EQ(FIND("lua", false), 0);
	CHECK_EQ(FIND("lua", true), 0);
	/* No /boot/loader: userboot.so only, the host's first. */
	CHECK_EQ(FIND("", false), 0);
	CHECK_EQ(p.n, 1);
	CHECK(p.c[0].generic && !p.c[0].guest);

	/*
	 * A guest candidate is opened beneath the guest's tree only, and what
	 * is loaded is what was opened: a later change of the path does not
	 * reach it.
	 */
	snprintf(path, sizeof(path), "%s/host/userboot_lua.so", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/host/userboot.so", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/guest/boot/userboot_lua.so", tmp);
	unlink(path);
	CHECK_EQ(symlink("/etc/hostname", path), 0);
	CHECK_EQ(FIND("lua", true), -ENOENT);
	CHECK_EQ(p.c[1].err, EPERM); /* an escape, as beneath_open says it */
	unlink(path);
	CHECK_EQ(mkdir(path, 0755), 0);
	CHECK_EQ(FIND("lua", true), -ENOENT);
	CHECK_EQ(p.c[1].err, EISDIR);
	rmdir(path);
	put("guest/boot/userboot_lua.so", "checked", 7);
	i = plugin_pick_find(&p, &w, "lua", true);
	CHECK_EQ(i, 1);
	unlink(path);
	CHECK_EQ(symlink("/etc/hostname", path), 0);
	CHECK_STR(cand_bytes(&p.c[i]), "checked");
	CHECK_EQ(found(&p, i), 1);

	/* No guest tree: host candidates only (a host path is the host's: anything that opens). */
	close(w.guest_fd);
	w.guest_fd = -1;
	put("host/userboot.so", "x", 1);
	CHECK_EQ(FIND("4th", false), 1);
	CHECK_EQ(p.n, 2);
}

int main(void)
{
	char cmd[PATH_MAX + 16];
	int r;

	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 2;
	}
	test_marker();
	test_interp();
	test_find();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	r = system(cmd);
	(void)r;
	return check_done();
}
