/* qemu_argv.c: QEMU's command line for a loaded guest (machine, shared memory, firmware, entry stub, devices, confinement) and the pre-flight check. */
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "qemu.h"

int qemu_disk_fds(const struct qemu_spec *s, int *fds)
{
	int n = 0;

	for (int i = 0; i < s->ndisks; i++) {
		const struct disk_info *d = s->disks[i].info;

		for (int j = d->nlayers - 1; j >= 0; j--)
			fds[n++] = d->layer[j].fd;
		if (s->disks[i].rw_fd >= 0)
			fds[n++] = s->disks[i].rw_fd;
	}
	return n;
}

/*
 * A raw image file whose format was probed, written by the guest: QEMU
 * probes it too (a -drive without a format, on the same descriptors), so its
 * probed-raw rule applies: the guest may not write an image header into
 * block 0, which the next boot's probe would follow to a backing file of the
 * guest's choosing.  Naming the format, as -blockdev must, would lift that.
 */
static bool qemu_disk_probed_raw(const struct qemu_disk *q)
{
	const struct disk_layer *l = &q->info->layer[0];

	return q->rw_fd >= 0 && q->info->nlayers == 1 && l->probed && !strcmp(l->format, "raw");
}

/*
 * Each file QEMU gets as descriptors in an fd set (-add-fd: the read-only
 * one, and for a written image its writable one too, so QEMU finds the mode
 * it asks for), opened by /dev/fdset/N: never a path it would parse or open
 * again.  Each layer is a protocol node on its set and a format node; the
 * backing of each is the node below, or null, so nothing is opened by a name
 * read in a header.
 */
static void qemu_argv_disks(struct argv *a, const struct qemu_spec *s)
{
	int fd = QEMU_FD_DISK0;

	for (int i = 0; i < s->ndisks; i++) {
		const struct qemu_disk *q = &s->disks[i];
		const struct disk_info *d = q->info;

		for (int j = d->nlayers - 1; j >= 0; j--) {
			const struct disk_layer *l = &d->layer[j];
			bool ro = j > 0 || q->rw_fd < 0;
			int set = fd;
			char backing[40] = "";

			argv_add(a, "-add-fd");
			argv_addf(a, "fd=%d,set=%d", fd++, set);
			if (!ro) {
				argv_add(a, "-add-fd");
				argv_addf(a, "fd=%d,set=%d", fd++, set);
			}
			if (qemu_disk_probed_raw(q)) {
				argv_add(a, "-drive");
				argv_addf(a, "file=/dev/fdset/%d,if=none,id=d%d-l0,readonly=off", set, i);
				continue;
			}
			if (disk_format_cow(l->format))
				snprintf(backing, sizeof(backing), j + 1 < d->nlayers ? ",\"backing\":\"d%d-l%d\"" :
					 ",\"backing\":null", i, j + 1);
			argv_add(a, "-blockdev");
			argv_addf(a, "{\"driver\":\"%s\",\"node-name\":\"d%d-f%d\",\"filename\":\"/dev/fdset/%d\","
				  "\"read-only\":%s}", l->blockdev ? "host_device" : "file", i, j, set,
				  ro ? "true" : "false");
			argv_add(a, "-blockdev");
			argv_addf(a, "{\"driver\":\"%s\",\"node-name\":\"d%d-l%d\",\"file\":\"d%d-f%d\","
				  "\"read-only\":%s%s}", l->format, i, j, i, j, ro ? "true" : "false", backing);
		}
		argv_add(a, "-device");
		/* bootindex-free virtio-blk: vtbd0, vtbd1, ... in -d order (PCI slots follow argv order). */
		argv_addf(a, "virtio-blk-pci,drive=d%d-l0", i);
	}
}

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
	argv_addf(a, "virtio-net-pci,netdev=net0,mac=%s", s->mac);
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
	argv_add(&a, "-initrd");
	argv_addf(&a, "/proc/self/fd/%d", QEMU_FD_HANDOFF);
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
	qemu_argv_disks(&a, s);
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
