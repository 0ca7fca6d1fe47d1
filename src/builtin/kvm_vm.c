/* kvm_vm.c: /dev/kvm, the VM file descriptor and guest memory slots; teardown of the whole VM. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem.h"
#include "kvm.h"
#include "log.h"

/* Capabilities the backend relies on, with what each buys us. */
static const struct {
	int cap;
	const char *name;
} kvm_vm_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },         /* guest RAM is our memfd */
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },       /* keep KVM's TSS out of RAM */
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },             /* KVM_GET_SUPPORTED_CPUID */
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },   /* race-free stop (kvm_vcpu_kick) */
};

static int kvm_vm_check_caps(struct kvm_vm *vm)
{
	size_t i;
	int r;

	r = ioctl(vm->sys_fd, KVM_GET_API_VERSION, 0);
	if (r < 0) {
		log_warn("KVM_GET_API_VERSION");
		return -errno;
	}
	if (r != KVM_API_VERSION) {
		log_warnx("KVM_GET_API_VERSION: version %d, need %d", r, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (i = 0; i < sizeof(kvm_vm_caps) / sizeof(kvm_vm_caps[0]); i++) {
		r = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, kvm_vm_caps[i].cap);
		if (r < 0) {
			log_warn("KVM_CHECK_EXTENSION(%s)", kvm_vm_caps[i].name);
			return -errno;
		}
		if (r == 0) {
			log_warnx("KVM_CHECK_EXTENSION: %s is not supported", kvm_vm_caps[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int kvm_vm_slot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		int e = errno;

		/* KVM caps one slot at 2^31 - 1 pages (8 TiB): say so rather than only "Invalid argument". */
		log_warn("guest memory: KVM refuses %llu MiB at guest-physical 0x%llx%s "
			 "(KVM_SET_USER_MEMORY_REGION, slot %u)", (unsigned long long)(size >> 20),
			 (unsigned long long)gpa, e == EINVAL ? ", more than it can map" : "", slot);
		return -e;
	}
	return 0;
}

static int kvm_vm_setup(struct kvm_vm *vm, const struct gmem *g)
{
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	int r;

	vm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0) {
		log_warn("open /dev/kvm");
		return -errno;
	}
	r = kvm_vm_check_caps(vm);
	if (r < 0)
		return r;
	vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		log_warn("KVM_CREATE_VM");
		return -errno;
	}
	/*
	 * Intel needs three pages for real-mode emulation and one for an
	 * identity page table; put them in the MMIO hole, away from guest RAM.
	 * Both must be set before the vCPU exists.
	 */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
		log_warn("KVM_SET_TSS_ADDR");
		return -errno;
	}
	if (ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
		log_warn("KVM_SET_IDENTITY_MAP_ADDR");
		return -errno;
	}
	/*
	 * No KVM_CREATE_IRQCHIP: with an in-kernel LAPIC, HLT would be handled
	 * inside KVM and never reach the run loop, so a halted guest could not
	 * be reported as bhyve's "halted".
	 */
	r = kvm_vm_slot(vm, 0, 0, g->lowmem, g->base);
	if (r < 0)
		return r;
	if (g->highmem)
		r = kvm_vm_slot(vm, 1, GMEM_HIGHMEM_BASE, g->highmem, g->base + g->lowmem);
	return r;
}

int kvm_vm_create(struct kvm_vm *vm, const struct gmem *g)
{
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->sys_fd = vm->vm_fd = vm->vcpu_fd = -1;
	r = kvm_vm_setup(vm, g);
	if (r < 0)
		kvm_vm_destroy(vm);
	return r;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	vm->run = NULL;
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	vm->vcpu_fd = vm->vm_fd = vm->sys_fd = -1;
}
