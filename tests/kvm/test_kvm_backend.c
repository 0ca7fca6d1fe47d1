/* test_kvm_backend.c: boots the test kernel on the KVM backend without a plugin, as userboot would lay it out. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../unit/check.h"
#include "boot_regs.h"
#include "chipset.h"
#include "console.h"
#include "freebsd_abi.h"
#include "gmem.h"
#include "kvm.h"
#include "span.h"
#include "uart.h"

#define KERNBASE   UINT64_C(0xffffffff80000000)
#define MEMSIZE    (64ULL << 20)
#define HOWTO      0x800 /* RB_SERIAL */
#define MODULE2_VA 0xffffffff80400000ULL
#define MODULE2_SZ 0x1234ULL

/* Test double of the console (console.c is not part of this test): output to a memfd. */
int console_getc(struct console *c)
{
	unsigned char b;

	return read(c->in_fd, &b, 1) == 1 ? b : -1;
}

int console_poll(struct console *c)
{
	struct pollfd p = { .fd = c->in_fd, .events = POLLIN };

	return c->in_fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

void console_putc(struct console *c, int ch)
{
	unsigned char b = (unsigned char)ch;

	if (write(c->out_fd, &b, 1) != 1)
		abort();
}

/* The console bytes written so far, NUL-terminated (caller frees). */
static char *console_output(struct console *c)
{
	off_t n = lseek(c->out_fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)n + 1);

	if (!buf || pread(c->out_fd, buf, (size_t)n, 0) != n)
		abort();
	return buf;
}

struct kernel_file {
	uint8_t *bytes;
	size_t len;
};

static int kernel_read(const char *path, struct kernel_file *k)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	k->len = (size_t)st.st_size;
	k->bytes = malloc(k->len);
	if (!k->bytes || read(fd, k->bytes, k->len) != (ssize_t)k->len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

/* What the loader knows after placing the kernel, in guest-physical terms. */
struct layout {
	uint64_t entry;
	uint64_t kern_pa, kern_end; /* first and one-past-last byte of the PT_LOADs */
	uint64_t env_pa, modulep, kernend;
};

static void *gpa(struct gmem *g, uint64_t pa, uint64_t len)
{
	void *p = gmem_ptr(g, pa, len);

	if (!p) {
		fprintf(stderr, "guest address 0x%" PRIx64 "+0x%" PRIx64 " out of range\n", pa, len);
		abort();
	}
	return p;
}

/* Copy every PT_LOAD to p_vaddr - KERNBASE, as the real loader's elf64 path does. */
static int kernel_place(struct gmem *g, const struct kernel_file *k, struct layout *l)
{
	struct span f = span_make(k->bytes, k->len), seg;
	uint64_t phoff, off, vaddr, filesz, memsz;
	uint16_t phentsize, phnum;
	uint32_t type;

	if (!span_has(f, 0, 64) || memcmp(k->bytes, "\177ELF\2\1", 6) != 0)
		return -ENOEXEC;
	if (span_le64(f, 24, &l->entry) || span_le64(f, 32, &phoff) ||
	    span_le16(f, 54, &phentsize) || span_le16(f, 56, &phnum) || phentsize < 56)
		return -ENOEXEC;
	l->kern_pa = UINT64_MAX;
	l->kern_end = 0;
	for (unsigned i = 0; i < phnum; i++) {
		uint64_t ph = phoff + (uint64_t)i * phentsize;

		if (span_le32(f, ph, &type) || span_le64(f, ph + 8, &off) ||
		    span_le64(f, ph + 16, &vaddr) || span_le64(f, ph + 32, &filesz) ||
		    span_le64(f, ph + 40, &memsz))
			return -ENOEXEC;
		if (type != 1 /* PT_LOAD */)
			continue;
		if (vaddr < KERNBASE || memsz < filesz || span_sub(f, off, filesz, &seg))
			return -ENOEXEC;
		uint8_t *dst = gpa(g, vaddr - KERNBASE, memsz);
		memcpy(dst, seg.p, filesz);
		memset(dst + filesz, 0, memsz - filesz);
		if (vaddr - KERNBASE < l->kern_pa)
			l->kern_pa = vaddr - KERNBASE;
		if (vaddr - KERNBASE + memsz > l->kern_end)
			l->kern_end = vaddr - KERNBASE + memsz;
	}
	return l->kern_end ? 0 : -ENOEXEC;
}

static uint64_t page_up(uint64_t v)
{
	return (v + 0xfff) & ~0xfffULL;
}

static uint64_t md_add(struct gmem *g, uint64_t at, uint32_t type, const void *data, uint32_t size)
{
	uint32_t hdr[2] = { type, size };

	memcpy(gpa(g, at, 8), hdr, 8);
	if (size)
		memcpy(gpa(g, at + 8, size), data, size);
	return at + 8 + ((size + 7) & ~7u);
}

static uint64_t md_str(struct gmem *g, uint64_t at, uint32_t type, const char *s)
{
	return md_add(g, at, type, s, (uint32_t)strlen(s) + 1);
}

static uint64_t md_u64(struct gmem *g, uint64_t at, uint32_t type, uint64_t v)
{
	return md_add(g, at, type, &v, sizeof(v));
}

/* The environment, module list, stack, page tables and GDT userboot's elf64_exec leaves behind. */
static void boot_layout(struct gmem *g, struct layout *l, const char *action, struct boot_regs *r)
{
	char env[256];
	int envlen;
	uint64_t at;
	uint32_t howto = HOWTO, stack[3];
	struct fbsd_bios_smap smap[2] = {
		{ 0, 0x9fc00, FBSD_SMAP_TYPE_MEMORY },
		{ 0x100000, g->lowmem - 0x100000, FBSD_SMAP_TYPE_MEMORY },
	};

	envlen = snprintf(env, sizeof(env), "testkernel.exit=%s%ckvmtest.marker=backend-%s%c",
			  action, 0, action, 0);
	l->env_pa = page_up(l->kern_end);
	memcpy(gpa(g, l->env_pa, (uint64_t)envlen + 1), env, (size_t)envlen + 1);

	l->modulep = page_up(l->env_pa + (uint64_t)envlen + 1);
	at = md_str(g, l->modulep, MODINFO_NAME, "/boot/kernel/kernel");
	at = md_str(g, at, MODINFO_TYPE, "elf kernel");
	at = md_u64(g, at, MODINFO_ADDR, KERNBASE + l->kern_pa);
	at = md_u64(g, at, MODINFO_SIZE, l->kern_end - l->kern_pa);
	at = md_add(g, at, MODINFO_METADATA | MODINFOMD_HOWTO, &howto, sizeof(howto));
	at = md_u64(g, at, MODINFO_METADATA | MODINFOMD_ENVP, l->env_pa);
	at = md_add(g, at, MODINFO_METADATA | MODINFOMD_SMAP, smap, sizeof(smap));
	l->kernend = page_up(at + 256); /* room for the KERNEND record and the module below */
	at = md_u64(g, at, MODINFO_METADATA | MODINFOMD_KERNEND, KERNBASE + l->kernend);
	at = md_str(g, at, MODINFO_NAME, "/boot/kernel/test.ko");
	at = md_str(g, at, MODINFO_TYPE, "elf obj");
	at = md_u64(g, at, MODINFO_ADDR, MODULE2_VA);
	at = md_u64(g, at, MODINFO_SIZE, MODULE2_SZ);
	md_add(g, at, MODINFO_END, NULL, 0);

	stack[0] = 0;
	stack[1] = (uint32_t)l->modulep;
	stack[2] = (uint32_t)l->kernend;
	memcpy(gpa(g, 0x1000, sizeof(stack)), stack, sizeof(stack));
	/* Every 1 GiB of VA maps physical 0-1 GiB with 2 MiB pages (10.x sets PG_U too). */
	uint64_t *pml4 = gpa(g, 0x2000, 4096), *pdpt = gpa(g, 0x3000, 4096),
		 *pd = gpa(g, 0x4000, 4096), *gdt = gpa(g, 0x5000, 24);
	for (unsigned i = 0; i < 512; i++) {
		pml4[i] = 0x3000 | 0x7;
		pdpt[i] = 0x4000 | 0x7;
		pd[i] = ((uint64_t)i << 21) | 0x87;
	}
	gdt[0] = 0;
	gdt[1] = 0x0020980000000000ULL;
	gdt[2] = 0x0000900000000000ULL;

	/* The register callbacks in userboot's order, as the callback layer records them. */
	*r = (struct boot_regs){
		.rsp = 0x1000, .efer = 0x500, .cr4 = 0x2020, .cr3 = 0x2000, .cr0 = 0x80000021,
		.gdt_base = 0x5000, .gdt_size = 24, .gdt_set = true, .rip = l->entry,
	};
}

/*
 * The whole console output on this machine: entry state as kvm_x86_long
 * sets it (no GPR set, so all 0), zeroed low memory (no RSDP), and port
 * reads nothing answers give all ones (no PCI device).  cr0 is passed in:
 * see test_boot.
 */
static char *expected_output(const struct gmem *g, const struct layout *l, const char *action,
			     uint64_t cr0)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	fprintf(f, "testkernel: start modulep=0x%" PRIx64 " kernend=0x%" PRIx64 "\r\n", l->modulep,
		l->kernend);
	fprintf(f, "testkernel: entry rsp=0x1000 rflags=0x2 cr0=0x%" PRIx64 " cr3=0x2000 cr4=0x20 "
		"efer=0x500\r\n", cr0);
	fprintf(f, "testkernel: entry cs=0x8 ds=0x10 es=0x10 fs=0x10 gs=0x10 ss=0x10 tr=0x0 "
		"ldtr=0x0\r\n");
	fprintf(f, "testkernel: entry gdtr=0x5000/0x17 idtr=0x0/0x0\r\n");
	fprintf(f, "testkernel: entry rax=0x0 rbx=0x0 rcx=0x0 rdx=0x0 rsi=0x0 rdi=0x0 rbp=0x0 r8=0x0 "
		"r9=0x0 r10=0x0 r11=0x0 r12=0x0 r13=0x0 r14=0x0 r15=0x0\r\n");
	fprintf(f, "testkernel: module name=/boot/kernel/kernel type=elf kernel addr=0x%" PRIx64
		" size=0x%" PRIx64 "\r\n", KERNBASE + l->kern_pa, l->kern_end - l->kern_pa);
	fprintf(f, "testkernel: module name=/boot/kernel/test.ko type=elf obj addr=0x%llx"
		" size=0x%llx\r\n", MODULE2_VA, MODULE2_SZ);
	fprintf(f, "testkernel: howto=0x%x\r\n", HOWTO);
	fprintf(f, "testkernel: smap base=0x0 len=0x9fc00 type=1\r\n");
	fprintf(f, "testkernel: smap base=0x100000 len=0x%" PRIx64 " type=1\r\n",
		g->lowmem - 0x100000);
	fprintf(f, "testkernel: kenv testkernel.exit=%s\r\n", action);
	fprintf(f, "testkernel: kenv kvmtest.marker=backend-%s\r\n", action);
	fprintf(f, "testkernel: acpi rsdp none\r\n");
	fprintf(f, "testkernel: pci virtio-blk=0\r\n");
	fprintf(f, "testkernel: %s\r\n", action);
	if (strcmp(action, "poweroff") == 0)
		fprintf(f, "testkernel: poweroff port=0x404 slp_typ=5\r\n");
	fclose(f);
	return s;
}

struct machine {
	struct gmem g;
	struct kvm_vm vm;
	struct console cons;
	struct uart uart;
};

static int machine_start(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	if (gmem_init(&m->g, MEMSIZE, 0) < 0)
		abort();
	m->cons.in_fd = -1;
	m->cons.out_fd = memfd_create("console", MFD_CLOEXEC);
	if (m->cons.out_fd < 0)
		abort();
	uart_init(&m->uart, &m->cons);
	if (kvm_vm_create(&m->vm, &m->g) < 0)
		return -1;
	if (uart_register(&m->uart, &m->vm.io) < 0 || chipset_register(&m->vm.io) < 0)
		return -1;
	return kvm_vcpu_create(&m->vm);
}

static void machine_stop(struct machine *m)
{
	kvm_vm_destroy(&m->vm);
	gmem_fini(&m->g);
	close(m->cons.out_fd);
}

/* For the spin test only: the SIGALRM handler needs the flag and the vCPU it kicks. */
static volatile sig_atomic_t stop_flag;
static struct kvm_vm *stop_vm;

static void on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
	kvm_vcpu_kick(stop_vm);
}

static void test_boot(const struct kernel_file *k, const char *action, enum vm_exit want)
{
	struct machine m;
	struct layout l;
	struct boot_regs r;
	enum vm_exit got;
	char *out, *exp;

	CHECK_EQ(machine_start(&m), 0);
	CHECK_EQ(kernel_place(&m.g, k, &l), 0);
	boot_layout(&m.g, &l, action, &r);
	CHECK_EQ(kvm_x86_apply(&m.vm, &r, &m.g), 0);

	if (strcmp(action, "spin") == 0) {
		struct sigaction sa = { .sa_handler = on_alarm };
		/*
		 * The first stop comes after a full second so the guest has printed
		 * its lines even on a loaded machine; then every 50 ms in case a
		 * kick lands before KVM_RUN.
		 */
		struct itimerval it = { { 0, 50000 }, { 1, 0 } };

		stop_flag = 0;
		stop_vm = &m.vm;
		m.vm.stop = &stop_flag;
		sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: KVM_RUN must see EINTR */
		setitimer(ITIMER_REAL, &it, NULL);
	}
	got = kvm_vcpu_run(&m.vm, &m.cons);
	if (m.vm.stop) {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };

		setitimer(ITIMER_REAL, &off, NULL);
		signal(SIGALRM, SIG_IGN);
	}

	out = console_output(&m.cons);
	/*
	 * The backend sets CR0 0x80000021, but ET (bit 4) is read-only 1 on
	 * AMD CPUs, and SVM lets the guest read CR0 itself: it may see 0x31.
	 */
	exp = expected_output(&m.g, &l, action,
			      strstr(out, " cr0=0x80000031 ") ? 0x80000031 : 0x80000021);
	CHECK_STR(out, exp);
	CHECK_EQ(got, want);
	free(out);
	free(exp);
	machine_stop(&m);
}

/* The state `kvmload --load-only` prints: exact lines of the long-mode entry. */
static void test_dump_long(const struct kernel_file *k)
{
	struct machine m;
	struct layout l;
	struct boot_regs r;
	char *dump = NULL, want[128];
	size_t n = 0;
	FILE *f;

	CHECK_EQ(machine_start(&m), 0);
	CHECK_EQ(kernel_place(&m.g, k, &l), 0);
	boot_layout(&m.g, &l, "halt", &r);
	r.gpr[VM_REG_GUEST_RBX] = 0x1234;
	r.gpr_set = 1u << VM_REG_GUEST_RBX;
	CHECK_EQ(kvm_x86_apply(&m.vm, &r, &m.g), 0);
	f = open_memstream(&dump, &n);
	CHECK_EQ(kvm_vcpu_dump(&m.vm, f), 0);
	fclose(f);

	snprintf(want, sizeof(want), "\nrip 0x%" PRIx64 "\n", l.entry);
	CHECK(strstr(dump, want) != NULL);
	CHECK(strncmp(dump, "rax 0x0\nrbx 0x1234\nrcx 0x0\n", 27) == 0);
	CHECK(strstr(dump, "\nrsp 0x1000\n") != NULL);
	CHECK(strstr(dump, "\nrflags 0x2\n") != NULL);
	CHECK(strstr(dump, "\ncr0 0x80000021\n") != NULL);
	CHECK(strstr(dump, "\ncr3 0x2000\n") != NULL);
	CHECK(strstr(dump, "\ncr4 0x20\n") != NULL);
	CHECK(strstr(dump, "\nefer 0x500\n") != NULL);
	CHECK(strstr(dump, "\ncs sel=0x08 base=0x0 limit=0x0 type=0xb s=1 dpl=0 p=1 db=0 l=1 g=0 "
			   "unusable=0\n") != NULL);
	CHECK(strstr(dump, "\nss sel=0x10 base=0x0 limit=0x0 type=0x3 s=1 dpl=0 p=1 db=0 l=0 g=0 "
			   "unusable=0\n") != NULL);
	CHECK(strstr(dump, "\ngdtr base=0x5000 limit=0x17\nidtr base=0x0 limit=0x0\n") != NULL);
	if (check_failed)
		fputs(dump, stderr);
	free(dump);
	machine_stop(&m);
}

/* i386 entry: libvmmapi's GDT in guest memory, flat 32-bit segments, and a 32-bit guest runs. */
static void test_i386(void)
{
	static const uint8_t code[] = {
		0x66, 0xba, 0xf8, 0x03, /* mov $0x3f8, %dx */
		0x6a, 0x4f,             /* push $'O' (the stack must work) */
		0x58,                   /* pop %eax */
		0xee,                   /* out %al, (%dx) */
		0xb0, 0x4b,             /* mov $'K', %al */
		0xee,                   /* out %al, (%dx) */
		0xf4,                   /* hlt */
	};
	static const uint64_t want_gdt[4] = {
		0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL, 0x0000890040000067ULL,
	};
	struct boot_regs r = { .rip = 0xc0200100, .rsp = 0x1000, .gdt_base = 0x3000,
			       .gdt_size = 31, .gdt_set = true };
	struct machine m;
	char *dump = NULL, *out;
	size_t n = 0;
	FILE *f;

	CHECK_EQ(machine_start(&m), 0);
	memcpy(gpa(&m.g, 0x200100, sizeof(code)), code, sizeof(code));
	/* userboot passes e_entry & 0xffffff; the backend must use only the low 32 bits anyway. */
	r.rip &= 0xffffff;
	CHECK_EQ(kvm_x86_apply(&m.vm, &r, &m.g), 0);
	CHECK(memcmp(gpa(&m.g, 0x3000, 32), want_gdt, 32) == 0);

	f = open_memstream(&dump, &n);
	CHECK_EQ(kvm_vcpu_dump(&m.vm, f), 0);
	fclose(f);
	CHECK(strstr(dump, "\nrip 0x200100\n") != NULL);
	CHECK(strstr(dump, "\ncr0 0x21\n") != NULL || strstr(dump, "\ncr0 0x31\n") != NULL);
	CHECK(strstr(dump, "\ncr3 0x0\ncr4 0x0\nefer 0x0\n") != NULL);
	CHECK(strstr(dump, "\ncs sel=0x08 base=0x0 limit=0xffffffff type=0xb s=1 dpl=0 p=1 db=1 "
			   "l=0 g=1 unusable=0\n") != NULL);
	CHECK(strstr(dump, "\nds sel=0x10 base=0x0 limit=0xffffffff type=0x3 s=1 dpl=0 p=1 db=1 "
			   "l=0 g=1 unusable=0\n") != NULL);
	CHECK(strstr(dump, "\ntr sel=0x18 base=0x4000 limit=0x67 type=0xb s=0 dpl=0 p=1 ") != NULL);
	CHECK(strstr(dump, "\ngdtr base=0x3000 limit=0x1f\n") != NULL);
	if (check_failed)
		fputs(dump, stderr);
	free(dump);

	CHECK_EQ(kvm_vcpu_run(&m.vm, &m.cons), VM_EXIT_HALT);
	out = console_output(&m.cons);
	CHECK_STR(out, "OK");
	free(out);

	/* A GDT base outside guest memory is refused before anything is written. */
	r.gdt_base = MEMSIZE - 16;
	CHECK_EQ(kvm_x86_apply(&m.vm, &r, &m.g), -EFAULT);
	r.gdt_base = 0xfffff000;
	CHECK_EQ(kvm_x86_apply(&m.vm, &r, &m.g), -EFAULT);
	machine_stop(&m);
}

/* Run flat 32-bit code at 0x200000 (the i386 entry) and return the console bytes. */
static enum vm_exit run_i386(const uint8_t *code, size_t len, char **out)
{
	struct boot_regs r = { .rip = 0x200000, .rsp = 0x1000, .gdt_base = 0x3000,
			       .gdt_size = 31, .gdt_set = true };
	struct machine m;
	enum vm_exit got = VM_EXIT_ERROR;

	CHECK_EQ(machine_start(&m), 0);
	memcpy(gpa(&m.g, 0x200000, len), code, len);
	memcpy(gpa(&m.g, 0x300000, 3), "abc", 3);
	if (kvm_x86_apply(&m.vm, &r, &m.g) == 0)
		got = kvm_vcpu_run(&m.vm, &m.cons);
	*out = console_output(&m.cons);
	machine_stop(&m);
	return got;
}

/* Port I/O the run loop must ignore, answer with 0xff, or act on. */
static void test_ports(void)
{
	static const uint8_t ignored_then_reset[] = {
		0x66, 0xba, 0x80, 0x00, 0xee,             /* POST code: out %al, $0x80 */
		0x66, 0xba, 0xf9, 0x0c, 0xb0, 0x02, 0xee, /* 0xcf9 <- 0x02: no reset bit */
		0x66, 0xba, 0x04, 0x04, 0x66, 0xb8, 0x00, 0x24, 0x66, 0xef, /* PM1a: S1, not S5 */
		0x66, 0xba, 0x64, 0x00, 0xb0, 0xd1, 0xee, /* KBC command 0xd1: not a reset */
		0x66, 0xba, 0x00, 0x05, 0xb0, 0x01, 0xee, /* unknown port 0x500: ignored */
		0x66, 0xba, 0x34, 0x12, 0xec,             /* in $0x1234 -> 0xff */
		0x66, 0xba, 0xf8, 0x03, 0xee,             /* ... printed on COM1 */
		0xbe, 0x00, 0x00, 0x30, 0x00,             /* mov $0x300000, %esi ("abc") */
		0xb9, 0x03, 0x00, 0x00, 0x00,             /* mov $3, %ecx */
		0xf3, 0x6e,                               /* rep outsb to COM1 */
		0x66, 0xba, 0x64, 0x00, 0xb0, 0xfe, 0xee, /* KBC 0xfe: reset */
		0xf4,
	};
	static const uint8_t poweroff[] = {
		0x66, 0xba, 0x04, 0x04, 0x66, 0xb8, 0x00, 0x34, 0x66, 0xef, /* PM1a: SLP_EN | S5 */
		0xf4,
	};
	static const uint8_t cf9_reset[] = {
		0x66, 0xba, 0xf9, 0x0c, 0xb0, 0x06, 0xee, 0xf4,
	};
	char *out;

	CHECK_EQ(run_i386(ignored_then_reset, sizeof(ignored_then_reset), &out), VM_EXIT_RESET);
	CHECK_STR(out, "\xff" "abc");
	free(out);
	CHECK_EQ(run_i386(poweroff, sizeof(poweroff), &out), VM_EXIT_POWEROFF);
	CHECK_STR(out, "");
	free(out);
	CHECK_EQ(run_i386(cf9_reset, sizeof(cf9_reset), &out), VM_EXIT_RESET);
	free(out);
}

int main(int argc, char **argv)
{
	struct kernel_file k;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s test-kernel\n", argv[0]);
		return 1;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		check_skip("/dev/kvm: %s", strerror(errno));
		return check_done();
	}
	close(fd);
	if (kernel_read(argv[1], &k) < 0) {
		fprintf(stderr, "%s: cannot read the test kernel\n", argv[1]);
		return 1;
	}

	test_boot(&k, "halt", VM_EXIT_HALT);
	test_boot(&k, "poweroff", VM_EXIT_POWEROFF);
	test_boot(&k, "reset", VM_EXIT_RESET);
	test_boot(&k, "triplefault", VM_EXIT_TRIPLEFAULT);
	test_boot(&k, "spin", VM_EXIT_ERROR);
	test_dump_long(&k);
	test_i386();
	test_ports();
	free(k.bytes);
	return check_done();
}
