/* test_cb.h: the fixture the callback tests share: a real struct loader, its test doubles and stderr capture. */
#ifndef KVMLOAD_TEST_CB_H
#define KVMLOAD_TEST_CB_H

#include <setjmp.h>
#include <stddef.h>

#include "cb.h"
#include "freebsd_abi.h"
#include "loader.h"

#define TEST_GMEM_SIZE (4ULL << 20)

/* A zeroed loader with TEST_GMEM_SIZE of guest memory, no host tree, no disks; exits 1 on failure. */
struct loader *test_loader_new(void);
void test_loader_free(struct loader *l);

/*
 * Run `call` with the recovery point armed; evaluates to 1 when the call
 * left through plugin_leave() (the test double longjmps here), 0 when it
 * returned normally.
 */
#define TEST_LEAVES(l, call)                                   \
	__extension__({                                        \
		volatile int test_left_ = 0;                   \
		(l)->leave = LEAVE_NONE;                       \
		(l)->recover.armed = true;                     \
		if (setjmp((l)->recover.jb) == 0) {            \
			call;                                  \
		} else {                                       \
			test_left_ = 1;                        \
		}                                              \
		(l)->recover.armed = false;                    \
		test_left_;                                    \
	})

/* Redirect stderr into a buffer between begin and end; end returns what was written (static buffer). */
void test_stderr_begin(void);
const char *test_stderr_end(void);

/* The callback stored at byte offset off of a built table, as the plugin would find it. */
#define TEST_SLOT(table, off) ((table)[(off) / sizeof(void *)])

#endif
