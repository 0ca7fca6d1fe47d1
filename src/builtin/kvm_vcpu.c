/* kvm_vcpu.c: vCPU 0: creation with KVM's CPUID, the run loop on the port map, register dump. */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "console.h"
#include "kvm.h"
#include "kvm_io.h"
#include "log.h"

static int kvm_vcpu_set_cpuid(struct kvm_vm *vm)
{
	struct kvm_cpuid2 *cpuid = NULL;
	unsigned nent = 64;
	int err;

	/* The table size is not announced; grow until KVM stops saying E2BIG. */
	for (;;) {
		free(cpuid);
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid) {
			log_warnx("KVM_GET_SUPPORTED_CPUID: out of memory for %u entries", nent);
			return -ENOMEM;
		}
		cpuid->nent = nent;
		if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG || nent >= 4096) {
			err = -errno;
			log_warn("KVM_GET_SUPPORTED_CPUID");
			free(cpuid);
			return err;
		}
		nent *= 2;
	}
	err = 0;
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
		err = -errno;
		log_warn("KVM_SET_CPUID2");
	}
	free(cpuid);
	return err;
}

int kvm_vcpu_create(struct kvm_vm *vm)
{
	int size;
	void *run;

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0) {
		log_warn("KVM_CREATE_VCPU");
		return -errno;
	}
	size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0) {
		log_warn("KVM_GET_VCPU_MMAP_SIZE");
		return -errno;
	}
	if ((size_t)size < sizeof(struct kvm_run)) {
		log_warnx("KVM_GET_VCPU_MMAP_SIZE: %d bytes is smaller than struct kvm_run", size);
		return -EINVAL;
	}
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (run == MAP_FAILED) {
		log_warn("mmap kvm_run");
		return -errno;
	}
	vm->run = run;
	vm->run_size = (size_t)size;
	return kvm_vcpu_set_cpuid(vm);
}

void kvm_vcpu_kick(struct kvm_vm *vm)
{
	if (vm->run)
		vm->run->immediate_exit = 1;
}

static const char *kvm_vcpu_exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
	case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
	case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
	case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
	default: return "an unexpected exit";
	}
}

static enum vm_exit kvm_vcpu_fail(struct kvm_vm *vm)
{
	struct kvm_run *run = vm->run;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		log_warnx("guest %s %u bytes at unbacked guest-physical 0x%llx (KVM_EXIT_MMIO)",
			  run->mmio.is_write ? "wrote" : "read", run->mmio.len,
			  (unsigned long long)run->mmio.phys_addr);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		log_warnx("KVM_RUN: VM entry failed (KVM_EXIT_FAIL_ENTRY), hardware reason 0x%llx",
			  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		log_warnx("KVM_RUN: KVM internal error (KVM_EXIT_INTERNAL_ERROR), suberror %u",
			  run->internal.suberror);
		break;
	case KVM_EXIT_IO:
		log_warnx("KVM_RUN: malformed KVM_EXIT_IO (port 0x%x, size %u, count %u)",
			  run->io.port, run->io.size, run->io.count);
		break;
	default:
		log_warnx("KVM_RUN: %s (exit reason %u)", kvm_vcpu_exit_name(run->exit_reason),
			  run->exit_reason);
		break;
	}
	kvm_vcpu_dump(vm, stderr);
	return VM_EXIT_ERROR;
}

/*
 * One KVM_EXIT_IO, each of its accesses looked up in the port map.
 * Returns KVM_IO_RUN or the vm_exit that ends the guest.
 */
static int kvm_vcpu_io(struct kvm_vm *vm)
{
	struct kvm_run *run = vm->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	int size = run->io.size;
	uint32_t i;
	int r;

	if (size != 1 && size != 2 && size != 4)
		return kvm_vcpu_fail(vm);
	if (run->io.data_offset > vm->run_size ||
	    (uint64_t)run->io.count * (uint64_t)size > vm->run_size - run->io.data_offset)
		return kvm_vcpu_fail(vm);
	/* A string instruction (rep outsb/insb) hands over several accesses at once. */
	for (i = 0; i < run->io.count; i++, data += size) {
		r = kvm_io_dispatch(&vm->io, run->io.port, out, data, size);
		if (r != KVM_IO_RUN)
			return r;
	}
	return KVM_IO_RUN;
}

enum vm_exit kvm_vcpu_run(struct kvm_vm *vm, const struct console *cons)
{
	int r;

	for (;;) {
		if (vm->stop && *vm->stop) {
			log_warnx("KVM_RUN: interrupted");
			return VM_EXIT_ERROR;
		}
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* A signal (or a kick): loop to look at the stop flag. */
				vm->run->immediate_exit = 0;
				continue;
			}
			log_warn("KVM_RUN");
			return VM_EXIT_ERROR;
		}
		switch (vm->run->exit_reason) {
		case KVM_EXIT_IO:
			r = kvm_vcpu_io(vm);
			if (r >= 0)
				return (enum vm_exit)r;
			/* Nobody can see the guest any more: stop it rather than run it blind. */
			if (cons->out_err) {
				log_warnx("console output closed (%s): stopping the guest",
					  strerror(cons->out_err));
				return VM_EXIT_ERROR;
			}
			break;
		case KVM_EXIT_HLT:
			/*
			 * bhyve calls HLT with interrupts disabled "halted".  With
			 * IF=1 nothing could wake the vCPU either: there is no
			 * interrupt controller yet.  So every HLT ends the guest.
			 */
			return VM_EXIT_HALT;
		case KVM_EXIT_SHUTDOWN:
			log_warnx("guest triple fault (KVM_EXIT_SHUTDOWN)");
			kvm_vcpu_dump(vm, stderr);
			return VM_EXIT_TRIPLEFAULT;
		case KVM_EXIT_INTR:
			break;
		default:
			return kvm_vcpu_fail(vm);
		}
	}
}

static void kvm_vcpu_dump_seg(FILE *out, const char *name, const struct kvm_segment *s)
{
	fprintf(out,
		"%s sel=0x%02x base=0x%llx limit=0x%x type=0x%x s=%u dpl=%u p=%u db=%u l=%u g=%u "
		"unusable=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->s, s->dpl,
		s->present, s->db, s->l, s->g, s->unusable);
}

int kvm_vcpu_dump(struct kvm_vm *vm, FILE *out)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	int err;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0) {
		err = -errno;
		log_warn("KVM_GET_REGS");
		return err;
	}
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		err = -errno;
		log_warn("KVM_GET_SREGS");
		return err;
	}
	const struct {
		const char *name;
		uint64_t v;
	} r[] = {
		{ "rax", regs.rax }, { "rbx", regs.rbx }, { "rcx", regs.rcx }, { "rdx", regs.rdx },
		{ "rsi", regs.rsi }, { "rdi", regs.rdi }, { "rbp", regs.rbp }, { "rsp", regs.rsp },
		{ "r8", regs.r8 },   { "r9", regs.r9 },   { "r10", regs.r10 }, { "r11", regs.r11 },
		{ "r12", regs.r12 }, { "r13", regs.r13 }, { "r14", regs.r14 }, { "r15", regs.r15 },
		{ "rip", regs.rip }, { "rflags", regs.rflags },
		{ "cr0", sregs.cr0 }, { "cr2", sregs.cr2 }, { "cr3", sregs.cr3 },
		{ "cr4", sregs.cr4 }, { "efer", sregs.efer },
	};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		fprintf(out, "%s 0x%" PRIx64 "\n", r[i].name, r[i].v);
	kvm_vcpu_dump_seg(out, "cs", &sregs.cs);
	kvm_vcpu_dump_seg(out, "ds", &sregs.ds);
	kvm_vcpu_dump_seg(out, "es", &sregs.es);
	kvm_vcpu_dump_seg(out, "fs", &sregs.fs);
	kvm_vcpu_dump_seg(out, "gs", &sregs.gs);
	kvm_vcpu_dump_seg(out, "ss", &sregs.ss);
	kvm_vcpu_dump_seg(out, "tr", &sregs.tr);
	kvm_vcpu_dump_seg(out, "ldtr", &sregs.ldt);
	fprintf(out, "gdtr base=0x%llx limit=0x%x\n", (unsigned long long)sregs.gdt.base,
		sregs.gdt.limit);
	fprintf(out, "idtr base=0x%llx limit=0x%x\n", (unsigned long long)sregs.idt.base,
		sregs.idt.limit);
	return 0;
}
