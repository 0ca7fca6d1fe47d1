/* run_builtin.h: kvmload's use of its own KVM machine (--run builtin, --load-only): the VM made before the loader runs (phase 7), the registers applied and the guest run (phases 12-13). */
#ifndef KVMLOAD_RUN_BUILTIN_H
#define KVMLOAD_RUN_BUILTIN_H

#include "kvm.h"
#include "loader.h"
#include "options.h"

/* The VM and vCPU 0 on guest memory, before the loader runs, so a missing /dev/kvm or memory KVM refuses is said first. */
void run_builtin_make(struct kvm_vm *vm, const struct loader *l);

/* The loaded registers applied, then --load-only's dump (status 0) or the guest run here: bhyve's status. */
enum vm_exit run_builtin_guest(struct kvm_vm *vm, struct loader *l, const struct opts *o);

#endif
