/* test_cb_guest.c: guest copies, the register protocol of real userboot, exit/exec/swap leaving, getmem, the console. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "plugin.h"
#include "test_cb.h"

static void test_copy(struct loader *l)
{
	const uint64_t end = TEST_GMEM_SIZE;
	uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];

	CHECK_EQ(cb_copyin(l, in, 0, 4), 0);
	CHECK(memcmp(gmem_ptr(&l->gmem, 0, 4), in, 4) == 0);
	CHECK_EQ(cb_copyin(l, in + 4, end - 1, 1), 0);
	CHECK_EQ(*(uint8_t *)gmem_ptr(&l->gmem, end - 1, 1), 5);
	CHECK_EQ(cb_copyin(l, in, end - 1, 2), FBSD_EFAULT);
	CHECK_EQ(cb_copyin(l, in, end, 1), FBSD_EFAULT);
	CHECK_EQ(cb_copyin(l, in, end, 0), 0);
	CHECK_EQ(cb_copyin(l, in, 0, end + 1), FBSD_EFAULT);
	/* UINT64_MAX masks to 2 GiB - 1, far beyond this guest's memory. */
	CHECK_EQ(cb_copyin(l, in, UINT64_MAX, 1), FBSD_EFAULT);
	CHECK_EQ(cb_copyout(l, UINT64_MAX, out, 1), FBSD_EFAULT);

	/* A kernel virtual address lands at its physical load address. */
	CHECK_EQ(cb_copyin(l, in, 0xffffffff80200000ULL, 8), 0);
	CHECK(memcmp(gmem_ptr(&l->gmem, 0x200000, 8), in, 8) == 0);
	CHECK_EQ(cb_copyin(l, in, 0x80000010ULL, 2), 0); /* bit 31 dropped as well */
	CHECK(memcmp(gmem_ptr(&l->gmem, 0x10, 2), in, 2) == 0);

	memset(out, 0, sizeof(out));
	CHECK_EQ(cb_copyout(l, 0xffffffff80200000ULL, out, 8), 0);
	CHECK(memcmp(out, in, 8) == 0);
	CHECK_EQ(cb_copyout(l, end - 1, out, 1), 0);
	CHECK_EQ(out[0], 5);
	CHECK_EQ(cb_copyout(l, end, out, 1), FBSD_EFAULT);
	CHECK_EQ(cb_copyout(l, end - 4, out, 8), FBSD_EFAULT);
}

/* Byte offsets of the register slots in the two table layouts. */
struct layout {
	int diskwrite;
	size_t copyin, setreg, setmsr, setcr, setgdt, exec;
};

/* elf64_exec's sequence as real userboot runs it, driven through the table. */
static void test_exec_sequence(struct loader *l, const struct layout *lay)
{
	static const uint64_t gdt[3] = { 0, 0x0020980000000000ULL, 0x0000900000000000ULL };
	struct plugin_gen gen = { .version = 5, .diskwrite = lay->diskwrite };
	void *t[CB_TABLE_MAX];

	cb_table_build(t, &gen);
	memset(&l->regs, 0, sizeof(l->regs));
	CHECK_EQ(TEST_LEAVES(l, ({
		((ub_setreg_fn *)TEST_SLOT(t, lay->setreg))(l, 4, 0x1000);
		((ub_setmsr_fn *)TEST_SLOT(t, lay->setmsr))(l, (int)0xc0000080u, 0x500);
		((ub_setcr_fn *)TEST_SLOT(t, lay->setcr))(l, 4, 0x2020);
		((ub_setcr_fn *)TEST_SLOT(t, lay->setcr))(l, 3, 0x2000);
		((ub_setcr_fn *)TEST_SLOT(t, lay->setcr))(l, 0, 0x80000021);
		((ub_copyin_fn *)TEST_SLOT(t, lay->copyin))(l, gdt, 0x5000, sizeof(gdt));
		((ub_setgdt_fn *)TEST_SLOT(t, lay->setgdt))(l, 0x5000, 24);
		((ub_exec_fn *)TEST_SLOT(t, lay->exec))(l, 0xffffffff80200078ULL);
	})), 1);
	CHECK_EQ(l->leave, LEAVE_EXEC);
	CHECK_EQ(l->regs.rip, 0xffffffff80200078ULL);
	CHECK_EQ(l->regs.rsp, 0x1000);
	CHECK_EQ(l->regs.efer, 0x500);
	CHECK_EQ(l->regs.cr4, 0x2020); /* recorded as given; exec's programming drops VMXE */
	CHECK_EQ(l->regs.cr3, 0x2000);
	CHECK_EQ(l->regs.cr0, 0x80000021);
	CHECK_EQ(l->regs.gdt_base, 0x5000);
	CHECK_EQ(l->regs.gdt_size, 24);
	CHECK(l->regs.gdt_set);
	CHECK_EQ(l->regs.gpr_set, 0);
	CHECK(boot_regs_long_mode(&l->regs));
	CHECK(memcmp(gmem_ptr(&l->gmem, 0x5000, sizeof(gdt)), gdt, sizeof(gdt)) == 0);
}

/* elf32_exec's: no setcr, so the entry must be the i386 one. */
static void test_exec_i386(struct loader *l)
{
	memset(&l->regs, 0, sizeof(l->regs));
	CHECK_EQ(TEST_LEAVES(l, ({
		cb_setreg(l, 4, 0x1000 + 0xfd8);
		cb_setgdt(l, 0x3000, 31);
		cb_exec(l, 0x200100);
	})), 1);
	CHECK_EQ(l->leave, LEAVE_EXEC);
	CHECK_EQ(l->regs.rip, 0x200100);
	CHECK_EQ(l->regs.rsp, 0x1fd8);
	CHECK_EQ(l->regs.gdt_size, 31);
	CHECK(!boot_regs_long_mode(&l->regs));
}

static void test_unsupported_regs(struct loader *l)
{
	test_stderr_begin();
	int left = TEST_LEAVES(l, cb_setreg(l, 0, 5));
	CHECK_STR(test_stderr_end(), "kvmload: the loader set register 0; only 4 (rsp) is supported\n");
	CHECK_EQ(left, 1);
	CHECK_EQ(l->leave, LEAVE_ERROR);

	test_stderr_begin();
	left = TEST_LEAVES(l, cb_setmsr(l, 0x10, 1));
	CHECK_STR(test_stderr_end(), "kvmload: the loader set MSR 0x10; only EFER (0xc0000080) is supported\n");
	CHECK_EQ(left, 1);
	CHECK_EQ(l->leave, LEAVE_ERROR);

	test_stderr_begin();
	left = TEST_LEAVES(l, cb_setcr(l, 2, 1));
	CHECK_STR(test_stderr_end(),
		  "kvmload: the loader set control register cr2; only cr0, cr3 and cr4 are supported\n");
	CHECK_EQ(left, 1);
	CHECK_EQ(l->leave, LEAVE_ERROR);
}

static void test_vm_set(struct loader *l)
{
	memset(&l->regs, 0, sizeof(l->regs));
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_RBX, 0x2badb002), 0);
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_R15, 15), 0);
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_RIP, 0x100000), 0);
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_RSP, 0x8000), 0);
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_CR0, 0x21), 0);
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_CR3, 0x3000), 0);
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_CR4, 0x20), 0);
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_EFER, 0x500), 0);
	CHECK_EQ(l->regs.gpr[VM_REG_GUEST_RBX], 0x2badb002);
	CHECK_EQ(l->regs.gpr[VM_REG_GUEST_R15], 15);
	CHECK_EQ(l->regs.gpr_set, (1u << VM_REG_GUEST_RBX) | (1u << VM_REG_GUEST_R15));
	CHECK_EQ(l->regs.rip, 0x100000);
	CHECK_EQ(l->regs.rsp, 0x8000);
	CHECK_EQ(l->regs.cr0, 0x21);
	CHECK_EQ(l->regs.cr3, 0x3000);
	CHECK_EQ(l->regs.cr4, 0x20);
	CHECK_EQ(l->regs.efer, 0x500);
	CHECK_EQ(cb_vm_set_register(l, 1, VM_REG_GUEST_RBX, 1), FBSD_EINVAL);
	CHECK_EQ(cb_vm_set_register(l, 0, VM_REG_GUEST_DR7, 1), FBSD_EINVAL);
	CHECK_EQ(cb_vm_set_register(l, 0, -1, 1), FBSD_EINVAL);
	CHECK_EQ(cb_vm_set_register(l, 0, 1000, 1), FBSD_EINVAL);

	CHECK_EQ(cb_vm_set_desc(l, 0, VM_REG_GUEST_CS, 0, 0xffffffff, 0xc09b), 0);
	CHECK_EQ(cb_vm_set_desc(l, 0, VM_REG_GUEST_GDTR, 0x5000, 23, 0), 0);
	CHECK_EQ(cb_vm_set_desc(l, 1, VM_REG_GUEST_CS, 0, 0, 0), FBSD_EINVAL);
	CHECK_EQ(cb_vm_set_desc(l, 0, VM_REG_GUEST_RAX, 0, 0, 0), FBSD_EINVAL);
	CHECK_EQ(cb_vm_set_desc(l, 0, VM_REG_GUEST_EFER, 0, 0, 0), FBSD_EINVAL);
}

static void check_swap_refused(struct loader *l, const char *name)
{
	test_stderr_begin();
	int left = TEST_LEAVES(l, cb_swap_interpreter(l, name));
	const char *msg = test_stderr_end();
	CHECK_EQ(left, 1);
	CHECK_EQ(l->leave, LEAVE_ERROR);
	CHECK_STR(l->swap_interp, "4th"); /* the earlier, valid request is not overwritten */
	CHECK(strstr(msg, "not a valid interpreter name") != NULL);
}

static void test_exit_swap(struct loader *l)
{
	CHECK_EQ(TEST_LEAVES(l, cb_exit(l, USERBOOT_EXIT_REBOOT)), 1);
	CHECK_EQ(l->leave, LEAVE_EXIT);
	CHECK_EQ(l->exit_value, 2);
	CHECK_EQ(TEST_LEAVES(l, cb_exit(l, 0)), 1);
	CHECK_EQ(l->exit_value, 0);

	CHECK_EQ(TEST_LEAVES(l, cb_swap_interpreter(l, "lua")), 1);
	CHECK_EQ(l->leave, LEAVE_SWAP);
	CHECK_STR(l->swap_interp, "lua");
	CHECK_EQ(TEST_LEAVES(l, cb_swap_interpreter(l, "4th")), 1);
	CHECK_STR(l->swap_interp, "4th");

	static const char *const bad[] = {
		"", "../../tmp/x", "LUA", "lua.so", "lua\n", "abcdefghijklmnopqrstuvwxyz0123456789",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_swap_refused(l, bad[i]);
	test_stderr_begin();
	TEST_LEAVES(l, cb_swap_interpreter(l, "lua\n"));
	CHECK_STR(test_stderr_end(),
		  "kvmload: the loader asked for interpreter 'lua\\x0a': not a valid interpreter name\n");
}

static void test_getmem(struct loader *l)
{
	uint64_t lo = 1, hi = 1;

	cb_getmem(l, &lo, &hi);
	CHECK_EQ(lo, TEST_GMEM_SIZE);
	CHECK_EQ(hi, 0);
}

static void test_console(struct loader *l)
{
	int in[2], out[2];
	char got[8] = { 0 };

	CHECK_EQ(pipe(in), 0);
	CHECK_EQ(pipe(out), 0);
	l->cons.in_fd = in[0];
	l->cons.out_fd = out[1];

	cb_putc(l, 'O');
	cb_putc(l, 'K');
	CHECK_EQ(read(out[0], got, sizeof(got)), 2);
	CHECK_STR(got, "OK");

	CHECK_EQ(cb_poll(l), 0);
	CHECK_EQ(write(in[1], "q", 1), 1);
	CHECK_EQ(cb_poll(l), 1);
	CHECK_EQ(cb_getc(l), 'q');
	close(in[1]);

	/* End of input at the prompt: leave as `quit` would, with a message. */
	test_stderr_begin();
	int left = TEST_LEAVES(l, cb_getc(l));
	CHECK_STR(test_stderr_end(), "kvmload: console input closed; leaving the loader\n");
	CHECK_EQ(left, 1);
	CHECK_EQ(l->leave, LEAVE_EXIT);
	CHECK_EQ(l->exit_value, 1);
	CHECK_EQ(cb_poll(l), 0);

	close(in[0]);
	close(out[0]);
	close(out[1]);
}

int main(void)
{
	struct loader *l = test_loader_new();
	static const struct layout dw = { 1, 0x60, 0x70, 0x78, 0x80, 0x88, 0x90 };
	static const struct layout nodw = { 0, 0x58, 0x68, 0x70, 0x78, 0x80, 0x88 };

	test_copy(l);
	test_exec_sequence(l, &nodw);
	test_exec_sequence(l, &dw);
	test_exec_i386(l);
	test_unsupported_regs(l);
	test_vm_set(l);
	test_exit_swap(l);
	test_getmem(l);
	test_console(l);
	test_loader_free(l);
	return check_done();
}
