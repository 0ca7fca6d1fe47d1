/* tp_basic.c: a test plugin that calls back, keeps state in .bss and uses every import the host offers. */
#include <stddef.h>
#include <stdint.h>

#include "userboot.h"

/* The imports, declared as FreeBSD's libc would (freestanding build, no headers). */
long time(long *t);
unsigned long strtoul(const char *s, char **end, int base);
void *memmem(const void *big, size_t blen, const void *little, size_t llen);
void abort(void);
extern char __start_set_tp_none[] __attribute__((weak));

static unsigned long runs;                         /* .bss: 0 in every fresh image */
static const char *const greetings[] = { "hello", "again" };
static const char haystack[] = "abcdef";
int tp_global = 7;                                 /* preemptible without -Bsymbolic */
int *tp_global_ptr = &tp_global;

int tp_twice(int v);
int tp_twice(int v)
{
	return 2 * v;
}

static void say(struct loader_callbacks *cb, void *arg, const char *s)
{
	while (*s)
		cb->putc(arg, *s++);
}

/* Overruns its own buffer by 16 bytes: far enough to hit the canary, not the caller. */
static __attribute__((noinline)) char smash(volatile int n)
{
	volatile char buf[16];

	for (int i = 0; i < 16 + n; i++)
		buf[i] = 'x';
	return buf[0];
}

void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks);
void loader_main(struct loader_callbacks *cb, void *arg, int version, int ndisks)
{
	runs++;
	cb->setreg(arg, 0, (uint64_t)version);
	switch (ndisks) {
	case 0:
		say(cb, arg, greetings[runs > 1]);
		cb->putc(arg, (int)('0' + runs));
		break;
	case 1:
		abort();
		say(cb, arg, "abort returned");
		break;
	case 2:
		smash(16);
		say(cb, arg, "smash returned");
		break;
	case 3:
		cb->setreg(arg, 1, (uint64_t)time(NULL));
		cb->setreg(arg, 2, strtoul("0x2a", NULL, 0));
		cb->setreg(arg, 3, (uint64_t)((const char *)memmem(haystack, 6, "cd", 2) - haystack));
		cb->setreg(arg, 4, (uint64_t)(uintptr_t)__start_set_tp_none);
		cb->setreg(arg, 5, (uint64_t)tp_twice(*tp_global_ptr));
		break;
	case 4:
		cb->exit(arg, 7);
		say(cb, arg, "exit returned");
		break;
	}
}
