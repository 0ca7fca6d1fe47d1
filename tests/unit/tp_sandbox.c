/* tp_sandbox.c: a test plugin that attacks its sandbox (raw system calls, forged results, bad registers, a loader that never ends) as -e tp.mode=... says. */
#include <stddef.h>
#include <stdint.h>

#include "userboot.h"

/* x86-64 Linux numbers, raw: the plugin has no libc and must not depend on the host's. */
#define NR_WRITE 1
#define NR_CLOSE 3
#define NR_OPEN 2
#define NR_SOCKET 41
#define NR_EXECVE 59
#define NR_EXIT_GROUP 231
#define NR_OPENAT2 437
#define AT_FDCWD_ (-100)
#define O_WRONLY_ 01

struct open_how_ {
	uint64_t flags, mode, resolve;
};

static long sys(long n, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

static void say(struct loader_callbacks *cb, void *arg, const char *s)
{
	while (*s)
		cb->putc(arg, *s++);
}

static void say_num(struct loader_callbacks *cb, void *arg, long v)
{
	char buf[24];
	int i = 0;

	if (v < 0) {
		cb->putc(arg, '-');
		v = -v;
	}
	do
		buf[i++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (i > 0)
		cb->putc(arg, buf[--i]);
	cb->putc(arg, '\n');
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* The value of tp.mode=... from the loader environment, or "". */
static const char *mode(struct loader_callbacks *cb, void *arg)
{
	static const char key[] = "tp.mode=";
	const char *e;

	for (int i = 0; (e = cb->getenv(arg, i)) != NULL; i++) {
		size_t k = 0;

		while (k < sizeof(key) - 1 && e[k] == key[k])
			k++;
		if (k == sizeof(key) - 1)
			return e + k;
	}
	return "";
}

/* Write len bytes of b to every descriptor from 3 up: one of them is the result pipe. */
static void forge(const char *b, long len)
{
	for (long fd = 3; fd < 64; fd++)
		sys(NR_WRITE, fd, (long)b, len, 0);
	sys(NR_EXIT_GROUP, 0, 0, 0, 0);
}

static char junk[4096];

/* A loader that never ends, in a CPU loop the compiler cannot drop. */
static _Noreturn void spin(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
}

void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks);
void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks)
{
	const char *m = mode(cb, arg);
	struct open_how_ how = { 0, 0, 0 };
	void *h;

	(void)version;
	(void)ndisks;
	say(cb, arg, "tp_sandbox: ");
	say(cb, arg, m);
	cb->putc(arg, '\n');
	if (same(m, "socket")) {
		sys(NR_SOCKET, 2, 1, 0, 0);
	} else if (same(m, "execve")) {
		static const char sh[] = "/bin/sh";
		const char *argv[] = { sh, NULL };

		sys(NR_EXECVE, (long)sh, (long)argv, 0, 0);
	} else if (same(m, "open")) {
		sys(NR_OPEN, (long)"/etc/passwd", 0, 0, 0);
	} else if (same(m, "openat2")) {
		say(cb, arg, "openat2 /etc/passwd: ");
		say_num(cb, arg, sys(NR_OPENAT2, AT_FDCWD_, (long)"/etc/passwd", (long)&how, sizeof(how)));
		how.flags = O_WRONLY_;
		say(cb, arg, "openat2 /boot/loader.conf for writing: ");
		say_num(cb, arg, sys(NR_OPENAT2, AT_FDCWD_, (long)"/boot/loader.conf", (long)&how,
				     sizeof(how)));
	} else if (same(m, "hostopen")) {
		say(cb, arg, "host open ../../../../etc/passwd: ");
		say_num(cb, arg, cb->open(arg, "../../../../etc/passwd", &h));
	} else if (same(m, "segv")) {
		volatile uintptr_t nowhere = 16;

		*(volatile int *)nowhere = 1;
	} else if (same(m, "short")) {
		forge("short", 5);
	} else if (same(m, "overlong")) {
		volatile char *j = junk; /* no loop the compiler could turn into a memset import */

		for (size_t i = 0; i < sizeof(junk); i++)
			j[i] = 'x';
		forge(junk, sizeof(junk));
	} else if (same(m, "badrip")) {
		/* i386 entry (cr3 0) at an address above 4 GiB. */
		cb->setgdt(arg, 0x5000, 32);
		cb->exec(arg, 0x123456789ULL);
	} else if (same(m, "badexit")) {
		cb->exit(arg, 300);
	} else if (same(m, "spin")) {
		spin();
	} else if (same(m, "hide")) {
		/* The result pipe closed, as if done: only the process's end says it is not. */
		for (long fd = 3; fd < 64; fd++)
			sys(NR_CLOSE, fd, 0, 0, 0);
		spin();
	}
	say(cb, arg, "tp_sandbox: still running\n");
	cb->exit(arg, 1);
}
