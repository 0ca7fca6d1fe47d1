/* qemu_argv.c: QEMU's command line (machine, shared memory, firmware, entry stub, devices but the disks, confinement) and the pre-flight check. */
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "qemu.h"

static void qemu_argv_net(struct argv *a, const struct qemu_spec *s)
{
	if (!s->net || strcmp(s->net, "none") == 0)
		return;
	argv_add(a, "-netdev");
	if (strcmp(s->net, "user") == 0)
		argv_add(a, "user,id=net0");
	else
		/* The tap kvmload attached: QEMU has neither the host's network nor the right to attach. */
		argv_addf(a, "tap,id=net0,fd=%d", QEMU_FD_TAP);
	argv_add(a, "-device");
	/* After the disks' slots: the guest's PCI bus as when every device was on the command line. */
	argv_addf(a, "virtio-net-pci,netdev=net0,mac=%s,addr=0x%x", s->mac, QEMU_PCI_SLOT0 + s->ndisks);
}

/* $KVMLOAD_QEMU_ARGS: more QEMU options, split at spaces (debugging and bench/run's debugcon). */
static void qemu_argv_extra(struct argv *a)
{
	const char *e = getenv("KVMLOAD_QEMU_ARGS");

	while (e && *e) {
		size_t n = strcspn(e, " ");
		char *w = strndup(e, n);

		if (!w) {
			a->oom = true;
			return;
		}
		if (*w)
			argv_add(a, w);
		free(w);
		e += n;
		e += strspn(e, " ");
	}
}

int qemu_argv(const struct qemu_spec *s, struct argv *out)
{
	struct argv a = { 0 };

	argv_add(&a, s->qemu);
	/* Stopped until kvmload has written the hand-off and given it the disks (qemu_run). */
	argv_add(&a, "-S");
	argv_add(&a, "-name");
	argv_add(&a, s->vmname);
	argv_add(&a, "-nodefaults");
	argv_add(&a, "-no-user-config");
	argv_add(&a, "-display");
	argv_add(&a, "none");
	/* Everything QEMU may do once running, minus what it needs: no exec, no setuid, no priorities. */
	argv_add(&a, "-sandbox");
	argv_add(&a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	argv_add(&a, "-accel");
	argv_add(&a, s->accel == QEMU_ACCEL_KVM ? "kvm" : "tcg");
	argv_add(&a, "-cpu");
	/* "host" alone aborts on some nested hosts (MSR 0x10a); TCG's "max" is its fullest model. */
	argv_add(&a, s->accel == QEMU_ACCEL_KVM ? "host,-arch-capabilities" : "max");
	argv_add(&a, "-smp");
	argv_addf(&a, "%d", s->cpus);
	/* The memfd the loader filled is the RAM: offset 0 at 0, offset 3 GiB at 4 GiB, as gmem.c. */
	argv_add(&a, "-object");
	argv_addf(&a, "memory-backend-file,id=ram,mem-path=/proc/self/fd/%d,size=%llu,share=on",
		  QEMU_FD_RAM, (unsigned long long)s->memsize);
	argv_add(&a, "-machine");
	argv_addf(&a, "pc,memory-backend=ram,max-ram-below-4g=3G,dump-guest-core=%s",
		  s->core ? "on" : "off");
	argv_add(&a, "-m");
	argv_addf(&a, "%lluB", (unsigned long long)s->memsize);
	/* Files kvmload opened: QEMU's view of the host hides the directories they may sit in. */
	argv_add(&a, "-bios");
	argv_addf(&a, "/proc/self/fd/%d", QEMU_FD_BIOS);
	argv_add(&a, "-kernel");
	argv_addf(&a, "/proc/self/fd/%d", QEMU_FD_STUB);
	argv_add(&a, "-chardev");
	argv_addf(&a, "socket,id=qmp,fd=%d", QEMU_FD_QMP);
	argv_add(&a, "-mon");
	argv_add(&a, "chardev=qmp,mode=control");
	argv_add(&a, "-chardev");
	argv_addf(&a, "socket,id=com1,fd=%d", QEMU_FD_SERIAL);
	argv_add(&a, "-device");
	argv_add(&a, "isa-serial,chardev=com1");
	argv_add(&a, "-device");
	argv_add(&a, "pvpanic");
	/* Every end of the guest is an exit, told apart by its QMP event. */
	argv_add(&a, "-action");
	argv_add(&a, "reboot=shutdown,shutdown=poweroff,panic=exit-failure");
	if (s->accel == QEMU_ACCEL_TCG) {
		/* TCG names a triple fault in its reset log; QMP reports it as a guest reset. */
		argv_add(&a, "-d");
		argv_add(&a, "cpu_reset");
		argv_add(&a, "-D");
		argv_addf(&a, "/proc/self/fd/%d", QEMU_FD_LOG);
	}
	qemu_argv_net(&a, s);
	qemu_argv_extra(&a);
	if (a.oom) {
		argv_free(&a);
		return -ENOMEM;
	}
	*out = a;
	return 0;
}

int qemu_check(const struct qemu_spec *s, char *err, size_t errlen)
{
	struct qemu_confine c;
	char path[4096];
	int r = qemu_preflight(s, err, errlen);

	if (r < 0)
		return r;
	if (argv_which(s->qemu, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: not found; the guest runs on QEMU: install Debian's "
			 "qemu-system-x86 (or set KVMLOAD_QEMU), or use --run builtin for test kernels",
			 s->qemu);
		return -ENOENT;
	}
	if (access(s->firmware, R_OK) < 0) {
		snprintf(err, errlen, "%s: %s; the firmware (qboot) comes with Debian's qemu-system-data "
			 "(or set KVMLOAD_FIRMWARE)", s->firmware, strerror(errno));
		return -ENOENT;
	}
	if (s->accel == QEMU_ACCEL_KVM && access("/dev/kvm", R_OK | W_OK) < 0) {
		snprintf(err, errlen, "--accel kvm: /dev/kvm: %s; use --accel tcg (QEMU's emulator) on a "
			 "host without usable KVM", strerror(errno));
		return -ENOENT;
	}
	if (access(s->stub, R_OK) < 0) {
		snprintf(err, errlen, "%s: %s; kvmload's PVH entry stub is installed with kvmload "
			 "(or set KVMLOAD_PVH_STUB)", s->stub, strerror(errno));
		return -ENOENT;
	}
	if (qemu_confine_plan(s, &c, err, errlen) < 0)
		return -ENOENT;
	return qemu_preflight_ask(s, err, errlen);
}
