/* test_sandbox.c: the allowlist table, the seccomp filter and Landlock in a forked child, and every check of the child's result message. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sandbox.h"
#include "sandbox_msg.h"

/* ---- the table */

static void test_table(void)
{
	size_t n;
	const struct confine_call *t = sandbox_calls(&n);

	CHECK(n > 0 && n < 40);
	for (size_t i = 0; i < n; i++) {
		CHECK(t[i].nr >= 0);
		CHECK(t[i].name && *t[i].name);
		CHECK(t[i].why && strlen(t[i].why) > 10);
		for (size_t j = 0; j < i; j++)
			CHECK(!(t[i].nr == t[j].nr && (t[i].arg < 0 || t[j].arg < 0 || t[i].eq == t[j].eq)));
	}
	/* Never on the list: what an escape would need first. */
	for (size_t i = 0; i < n; i++) {
		CHECK(t[i].nr != __NR_execve && t[i].nr != __NR_socket && t[i].nr != __NR_open &&
		      t[i].nr != __NR_openat && t[i].nr != __NR_ioctl && t[i].nr != __NR_kill &&
		      t[i].nr != __NR_mprotect && t[i].nr != __NR_ptrace && t[i].nr != __NR_clone);
		if (t[i].nr == __NR_mmap)
			CHECK(t[i].arg == 2 && (t[i].mask & PROT_EXEC) && t[i].eq == 0);
	}
}

/* ---- the result message */

static struct gmem test_gmem;

static struct boot_regs long_regs(void)
{
	/* What miniboot and userboot send for the long-mode entry. */
	return (struct boot_regs){
		.rip = 0xffffffff80200000ULL, .rsp = 0x1000, .cr0 = 0x80000021, .cr3 = 0x2000,
		.cr4 = 0x2020, .efer = 0x500, .gdt_base = 0x3000, .gdt_size = 24, .gdt_set = true,
	};
}

static const struct footprint no_fp;

/* check the message for regs r; returns sandbox_msg_check's result, error text in err. */
static int check_exec(const struct boot_regs *r, char *err)
{
	struct sandbox_msg m;
	struct sandbox_result res;

	sandbox_msg_pack(&m, LEAVE_EXEC, 0, NULL, r, &no_fp);
	return sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, 256);
}

static void test_msg(void)
{
	struct sandbox_msg m;
	struct sandbox_result res;
	struct boot_regs r = long_regs();
	char err[256], buf[sizeof(m) + 8];

	CHECK_EQ(gmem_init(&test_gmem, 64ULL << 20, 0), 0);

	/* Each leave reason round-trips. */
	sandbox_msg_pack(&m, LEAVE_EXIT, 2, NULL, &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.leave, LEAVE_EXIT);
	CHECK_EQ(res.exit_value, 2);
	sandbox_msg_pack(&m, LEAVE_SWAP, 0, "lua", &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), 0);
	CHECK_STR(res.interp, "lua");
	sandbox_msg_pack(&m, LEAVE_ERROR, 0, NULL, &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.leave, LEAVE_ERROR);
	sandbox_msg_pack(&m, LEAVE_EXEC, 0, NULL, &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.regs.rip, 0xffffffff80200000ULL);
	CHECK_EQ(res.regs.cr3, 0x2000);
	CHECK(res.regs.gdt_set);
	r = (struct boot_regs){ .rip = 0x200000, .rsp = 0x90000, .gdt_base = 0x5000, .gdt_size = 32,
				.gdt_set = true, .gpr_set = 0x2, .gpr = { [1] = 0x1234 } };
	CHECK_EQ(check_exec(&r, err), 0);

	/* Size and header. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(sandbox_msg_check(buf, sizeof(m) - 1, &test_gmem, &res, err, sizeof(err)), -EPROTO);
	CHECK_STR(err, "759 bytes instead of 760");
	CHECK_EQ(sandbox_msg_check(buf, sizeof(m) + 1, &test_gmem, &res, err, sizeof(err)), -EPROTO);
	memset(buf, 0xab, sizeof(buf));
	CHECK_EQ(sandbox_msg_check(buf, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	CHECK_STR(err, "no result header (0xabababab)");

	/* Reasons, exit values, interpreter names. */
	r = long_regs();
	sandbox_msg_pack(&m, LEAVE_NONE, 0, NULL, &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	CHECK_STR(err, "leave reason 0 is not exit, exec, swap or error");
	m.leave = 9;
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	sandbox_msg_pack(&m, LEAVE_EXIT, -1, NULL, &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	CHECK_STR(err, "exit value -1 outside 0..255");
	sandbox_msg_pack(&m, LEAVE_EXIT, 256, NULL, &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	sandbox_msg_pack(&m, LEAVE_SWAP, 0, "", &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	CHECK_STR(err, "interpreter name of 0 bytes (1 to 31, NUL-terminated)");
	sandbox_msg_pack(&m, LEAVE_SWAP, 0, "../x", &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	CHECK_STR(err, "interpreter name with byte 0x2e (only a-z 0-9)");
	sandbox_msg_pack(&m, LEAVE_SWAP, 0, "Lua", &r, &no_fp);
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	memset(m.interp, 'a', sizeof(m.interp));
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	CHECK_STR(err, "interpreter name of 32 bytes (1 to 31, NUL-terminated)");

	/* Registers. */
	r = long_regs();
	r.cr0 |= 1ULL << 30; /* CD */
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	CHECK_STR(err, "cr0 0xc0000021 has bits a FreeBSD entry does not use");
	r = long_regs();
	r.cr4 |= 1ULL << 20; /* SMEP */
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	r = long_regs();
	r.efer |= 1ULL << 12; /* SVME */
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	CHECK_STR(err, "efer 0x1500 has bits a FreeBSD entry does not use");
	r = long_regs();
	r.gpr_set = 1u << 15;
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	r = long_regs();
	r.cr3 = 0x2100;
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	CHECK_STR(err, "cr3 0x2100 is not a page of guest memory");
	r.cr3 = 64ULL << 20;
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	r = long_regs();
	r.rip = 0x0000800000000000ULL;
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	CHECK_STR(err, "rip 0x800000000000 or rsp 0x1000 is not a canonical address");
	r = long_regs();
	r.gdt_base = (64ULL << 20) - 8;
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	r = long_regs();
	r.gdt_size = 0x10001;
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	r = long_regs();
	r.gdt_set = false;
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	CHECK_STR(err, "a GDT (base 0x3000) without setgdt");
	sandbox_msg_pack(&m, LEAVE_EXEC, 0, NULL, &r, &no_fp);
	m.gdt_set = 2;
	CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
	CHECK_STR(err, "gdt_set 2 is not 0 or 1");
	/* i386 entry (cr3 0): 32-bit rip and rsp, the GDT kvm_x86 writes inside guest memory. */
	r = (struct boot_regs){ .rip = 0x100000000ULL, .gdt_base = 0x5000, .gdt_size = 32, .gdt_set = true };
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	CHECK_STR(err, "i386 entry: rip 0x100000000 or rsp 0x0 is above 4 GiB");
	r = (struct boot_regs){ .rip = 0x200000, .gdt_base = 64ULL << 20, .gdt_size = 32, .gdt_set = true };
	CHECK_EQ(check_exec(&r, err), -EPROTO);
	CHECK_STR(err, "i386 entry: GDT base 0x4000000 is not in guest memory");
	/* The footprint: passed through when sorted and inside guest memory, refused otherwise. */
	{
		struct footprint fp = { 0 };

		r = long_regs();
		footprint_add(&fp, 0x5000, 24);
		footprint_add(&fp, 0x1000, 0x4000);
		footprint_add(&fp, 0x200000, 0x10000);
		CHECK_EQ(fp.n, 2);
		sandbox_msg_pack(&m, LEAVE_EXEC, 0, NULL, &r, &fp);
		CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), 0);
		CHECK_EQ(res.written.n, 2);
		CHECK_EQ(res.written.r[0].start, 0x1000);
		CHECK_EQ(res.written.r[0].end, 0x5018);
		CHECK_EQ(res.written.r[1].end, 0x210000);
		m.written[1][1] = (64ULL << 20) + 1;
		CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
		CHECK_STR(err, "written range [0x200000, 0x4000001) is not guest memory");
		m.written[1][0] = 0x2000;
		m.written[1][1] = 0x3000;
		CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
		CHECK_STR(err, "written ranges out of order or overlapping");
		m.nwritten = FOOTPRINT_MAX + 1;
		CHECK_EQ(sandbox_msg_check(&m, sizeof(m), &test_gmem, &res, err, sizeof(err)), -EPROTO);
		CHECK_STR(err, "33 written ranges (at most 32)");
	}
	gmem_fini(&test_gmem);
}

/* ---- the filter and Landlock, in a child */

struct child_case {
	const char *name;
	int root_fd;   /* the view directory the child may read, or -1 */
	bool drop_uid; /* become nobody first, so chroot is refused and Landlock alone confines */
	bool enabled;
	void (*body)(int out, int root_fd);
};

static void say(int out, const char *what, long v)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s %ld\n", what, v);

	if (write(out, line, (size_t)n) < 0)
		_exit(3);
}

static long open2(int dir, const char *path, uint64_t flags)
{
	struct open_how how = { .flags = flags | O_CLOEXEC };
	long fd = syscall(SYS_openat2, dir, path, &how, sizeof(how));

	return fd < 0 ? -errno : 0;
}

/* Runs c->body in a sandboxed child; out gets what it said, *status how it ended. */
static void child_run(const struct child_case *c, char *out, size_t len, int *status)
{
	struct sandbox sb;
	int fds[2];
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	sandbox_init(&sb, c->enabled);
	CHECK_EQ(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		int keep[] = { 2, fds[1], c->root_fd };
		char err[256];

		close(fds[0]);
		if (c->drop_uid && (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
			_exit(4);
		if (sandbox_enter(&sb, keep, 3, c->root_fd, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", c->name, err);
			_exit(5);
		}
		c->body(fds[1], c->root_fd);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fds[0]);
	waitpid(pid, status, 0);
}

static bool killed_by_sigsys(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static void body_getpid(int out, int root_fd)
{
	(void)root_fd;
	say(out, "before", 0);
	syscall(SYS_getpid);
	say(out, "after", 0);
}

static void body_mmap(int out, int root_fd)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)root_fd;
	say(out, "rw", p != MAP_FAILED);
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say(out, "exec", 1);
}

static void body_x32(int out, int root_fd)
{
	(void)root_fd;
	say(out, "before", 0);
	syscall(0x40000000 | SYS_getpid);
	say(out, "after", 0);
}

static void body_fcntl(int out, int root_fd)
{
	say(out, "getfl", fcntl(root_fd, F_GETFL) >= 0);
	fcntl(root_fd, F_SETFL, O_NONBLOCK);
	say(out, "setfl", 1);
}

static void body_open(int out, int root_fd)
{
	say(out, "passwd", open2(AT_FDCWD, "/etc/passwd", O_RDONLY));
	say(out, "read", root_fd >= 0 ? open2(root_fd, "f", O_RDONLY) : -1);
	say(out, "write", root_fd >= 0 ? open2(root_fd, "f", O_WRONLY) : -1);
	say(out, "rooted", open2(AT_FDCWD, "/f", O_RDONLY));
}

static void body_fds(int out, int root_fd)
{
	(void)root_fd;
	/* fd 0 was not in the keep list: closed. */
	say(out, "fd0", fcntl(0, F_GETFD) < 0 ? -errno : 0);
	say(out, "pid", syscall(SYS_getpid) > 0);
}

static void test_filter(void)
{
	char out[512], dir[] = "/tmp/test_sandbox.XXXXXX", file[64];
	struct sandbox probe;
	int status, root_fd, fd;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ(chmod(dir, 0755), 0);
	snprintf(file, sizeof(file), "%s/f", dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	CHECK(fd >= 0);
	close(fd);
	/* 0666 in spite of the umask: only the sandbox may keep nobody from writing it. */
	CHECK_EQ(chmod(file, 0666), 0);
	root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(root_fd >= 0);

	child_run(&(struct child_case){ "getpid", -1, false, true, body_getpid }, out, sizeof(out), &status);
	CHECK(killed_by_sigsys(status));
	CHECK_STR(out, "before 0\n");
	child_run(&(struct child_case){ "mmap", -1, false, true, body_mmap }, out, sizeof(out), &status);
	CHECK(killed_by_sigsys(status));
	CHECK_STR(out, "rw 1\n");
	child_run(&(struct child_case){ "x32", -1, false, true, body_x32 }, out, sizeof(out), &status);
	CHECK(killed_by_sigsys(status));
	CHECK_STR(out, "before 0\n");
	/* The host-file calls exist only with a view directory; even then fcntl only for what open needs. */
	child_run(&(struct child_case){ "fcntl", root_fd, false, true, body_fcntl }, out, sizeof(out), &status);
	CHECK(killed_by_sigsys(status));
	CHECK_STR(out, "getfl 1\n");
	child_run(&(struct child_case){ "fcntl-noview", -1, false, true, body_fcntl }, out, sizeof(out), &status);
	CHECK(killed_by_sigsys(status));
	CHECK_STR(out, "");
	child_run(&(struct child_case){ "open-noview", -1, false, true, body_open }, out, sizeof(out), &status);
	CHECK(killed_by_sigsys(status));
	CHECK_STR(out, "");
	/* Without the sandbox only the descriptors go. */
	child_run(&(struct child_case){ "off", -1, false, false, body_fds }, out, sizeof(out), &status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_STR(out, "fd0 -9\npid 1\n");

	if (geteuid() == 0) {
		/* As root: chrooted to the view directory, so "/" is that directory. */
		child_run(&(struct child_case){ "chroot", root_fd, false, true, body_open }, out, sizeof(out), &status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		CHECK_STR(out, "passwd -2\nread 0\nwrite -13\nrooted 0\n");
	} else {
		check_skip("chroot: the child's chroot to the view directory needs root");
	}
	sandbox_init(&probe, true);
	if (probe.landlock_abi == 0) {
		check_skip("landlock: the kernel has no Landlock");
	} else if (geteuid() != 0) {
		check_skip("landlock: the child becomes nobody first, which needs root");
	} else {
		/* As nobody, chroot is refused: Landlock alone keeps the child to reading the view. */
		child_run(&(struct child_case){ "landlock", root_fd, true, true, body_open }, out, sizeof(out), &status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		CHECK_STR(out, "passwd -13\nread 0\nwrite -13\nrooted -2\n");
	}
	close(root_fd);
	unlink(file);
	rmdir(dir);
}

int main(void)
{
	test_table();
	test_msg();
	test_filter();
	return check_done();
}
