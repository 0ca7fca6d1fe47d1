/* test_cb_env.c: the table's byte layout per plugin generation, and the environment getenv serves. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "env_var.h"
#include "plugin.h"
#include "test_cb.h"

/* This file is built with the 13.0+ struct (USERBOOT_DISKWRITE, USERBOOT_STAT_STRUCT), as miniboot can be. */
_Static_assert(sizeof(struct loader_callbacks) == 0xd8, "built with the 13.0+ layout");

static void test_layout(void)
{
	void *t[CB_TABLE_MAX];
	struct plugin_gen v13 = { .version = 5, .diskwrite = true, .stat_struct = true };
	struct plugin_gen v10 = { .version = 3 };
	struct plugin_gen v122 = { .version = 5, .stat_struct = true };
	struct plugin_gen illumos = { .version = 5, .diskwrite = true };

	CHECK_EQ(cb_table_build(t, &v13), 0xd8);
	CHECK(TEST_SLOT(t, 0x00) == (void *)cb_getc);
	CHECK(TEST_SLOT(t, 0x48) == (void *)cb_stat_new);
	CHECK(TEST_SLOT(t, 0x50) == (void *)cb_diskread);
	CHECK(TEST_SLOT(t, 0x58) == (void *)cb_diskwrite);
	CHECK(TEST_SLOT(t, 0x60) == (void *)cb_copyin);
	CHECK(TEST_SLOT(t, 0xa0) == (void *)cb_exit);
	CHECK(TEST_SLOT(t, 0xb0) == (void *)cb_diskioctl);
	CHECK(TEST_SLOT(t, 0xb8) == (void *)cb_getenv);
	CHECK(TEST_SLOT(t, 0xd0) == (void *)cb_swap_interpreter);
	/* The plugin's own view of the same table. */
	const struct loader_callbacks *cbs = (const void *)t;
	CHECK(cbs->stat == cb_stat_new);
	CHECK(cbs->diskwrite == cb_diskwrite);
	CHECK(cbs->copyout == cb_copyout);
	CHECK(cbs->vm_set_desc == cb_vm_set_desc);
	CHECK(cbs->swap_interpreter == cb_swap_interpreter);

	CHECK_EQ(cb_table_build(t, &v10), 0xd0);
	CHECK(TEST_SLOT(t, 0x48) == (void *)cb_stat_old);
	CHECK(TEST_SLOT(t, 0x50) == (void *)cb_diskread);
	CHECK(TEST_SLOT(t, 0x58) == (void *)cb_copyin);
	CHECK(TEST_SLOT(t, 0x98) == (void *)cb_exit);
	CHECK(TEST_SLOT(t, 0xa8) == (void *)cb_diskioctl);
	CHECK(TEST_SLOT(t, 0xb0) == (void *)cb_getenv);
	CHECK(TEST_SLOT(t, 0xc8) == (void *)cb_swap_interpreter);
	CHECK(TEST_SLOT(t, 0xd0) == NULL);

	CHECK_EQ(cb_table_build(t, &v122), 0xd0);
	CHECK(TEST_SLOT(t, 0x48) == (void *)cb_stat_new);
	CHECK(TEST_SLOT(t, 0x98) == (void *)cb_exit);

	CHECK_EQ(cb_table_build(t, &illumos), 0xd8);
	CHECK(TEST_SLOT(t, 0x48) == (void *)cb_stat_old);
	CHECK(TEST_SLOT(t, 0xa0) == (void *)cb_exit);

	/* Every slot of every layout is filled. */
	int filled = 0;
	size_t n = cb_table_build(t, &v13) / sizeof(void *);
	for (size_t i = 0; i < n; i++)
		filled += t[i] != NULL;
	CHECK_EQ(filled, 27);
}

static void test_env(struct loader *l)
{
	char *user[] = { "a=1", "b=2", "a=3" };
	struct plugin_gen v13 = { .version = 5, .diskwrite = true, .stat_struct = true };
	struct plugin_gen v10 = { .version = 3 };
	void *t[CB_TABLE_MAX];

	CHECK_EQ(env_build(l, user, 3), 0);
	cb_table_build(t, &v13);
	const struct loader_callbacks *cbs = (const void *)t;
	CHECK_STR(cbs->getenv(l, 0), "boot_serial=1");
	CHECK_STR(cbs->getenv(l, 1), "smbios.bios.vendor=BHYVE");
	CHECK_STR(cbs->getenv(l, 2), "a=3");
	CHECK_STR(cbs->getenv(l, 3), "b=2");
	CHECK_STR(cbs->getenv(l, 4), "a=1");
	CHECK(cbs->getenv(l, 5) == NULL);
	CHECK(cbs->getenv(l, -1) == NULL);

	/* The 10.x table serves the same strings one slot lower. */
	cb_table_build(t, &v10);
	CHECK_STR(((ub_getenv_fn *)TEST_SLOT(t, 0xb0))(l, 2), "a=3");

	/* Values are copies: changing the command line afterwards changes nothing. */
	char mutable[] = "c=4";
	char *one[] = { mutable };
	env_free(l);
	CHECK_EQ(env_build(l, one, 1), 0);
	mutable[0] = 'X';
	CHECK_STR(cb_getenv(l, 2), "c=4");
	env_free(l);

	/* Defaults alone. */
	CHECK_EQ(env_build(l, NULL, 0), 0);
	CHECK_EQ(l->nenv, 2);
	CHECK(cb_getenv(l, 2) == NULL);
	env_free(l);

	/* Bad -e strings are refused and leave no environment behind. */
	char *bad1[] = { "a=1", "novalue" };
	char *bad2[] = { "=v" };
	char *okempty[] = { "a=" };
	CHECK_EQ(env_build(l, bad1, 2), -EINVAL);
	CHECK_EQ(env_build(l, bad2, 1), -EINVAL);
	CHECK_EQ(l->nenv, 0);
	CHECK(cb_getenv(l, 0) == NULL);
	CHECK(!env_var_valid("x"));
	CHECK(!env_var_valid("=x"));
	CHECK(env_var_valid("x="));
	CHECK(env_var_valid("x=a=b"));
	CHECK_EQ(env_build(l, okempty, 1), 0);
	CHECK_STR(cb_getenv(l, 2), "a=");
	env_free(l);
}

int main(void)
{
	struct loader *l = test_loader_new();

	test_layout();
	test_env(l);
	test_loader_free(l);
	return check_done();
}
